// Tick each password rule as the user types; the server checks them again on submit.
(function () {
  var checks = {
    length: function (v, el) { return v.length >= +el.dataset.min && v.length <= +el.dataset.max; },
    upper: function (v) { return /[A-Z]/.test(v); },
    lower: function (v) { return /[a-z]/.test(v); },
    digit: function (v) { return /[0-9]/.test(v); }
  };
  document.querySelectorAll("[data-password-rules]").forEach(function (list) {
    var input = document.getElementById(list.dataset.passwordRules);
    if (!input) return;
    input.addEventListener("input", function () {
      list.querySelectorAll("[data-rule]").forEach(function (item) {
        var check = checks[item.dataset.rule];
        if (check) item.classList.toggle("ok", check(input.value, item));
      });
    });
  });
  // Count down the wait before a code may be sent again.
  document.querySelectorAll("[data-wait]").forEach(function (button) {
    var left = +button.dataset.wait, label = button.querySelector("[data-left]");
    if (left <= 0) return;
    button.disabled = true;
    var timer = setInterval(function () {
      left -= 1;
      if (label) label.textContent = left;
      if (left <= 0) { clearInterval(timer); button.disabled = false; if (label) label.parentNode.remove(); }
    }, 1000);
  });
})();
