// Small comforts of the layout: the account menu closes like a menu, recovery codes can be copied.
(function () {
  var menu = document.querySelector("[data-account-menu]");
  if (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = Array.prototype.map.call(source.children, function (item) {
        return item.textContent.trim();
      }).join("\n");
      navigator.clipboard.writeText(text).then(function () {
        button.textContent = button.dataset.copied;
      });
    });
  });
})();
