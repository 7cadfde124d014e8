// Keep the "what became of the SMS" line of a code page up to date until its state is final.
(function () {
  var line = document.querySelector("[data-sms-status-url]");
  if (!line) return;
  var final = ["delivered", "undeliverable", "expired", "rejected", "failed"];
  function label(state) {
    return line.getAttribute("data-label-" + state) || line.getAttribute("data-label-failed");
  }
  function check() {
    fetch(line.dataset.smsStatusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.state) return;
        if (data.state !== line.dataset.smsState) {
          line.className = "sms-status sms-status--" + data.state;
          line.dataset.smsState = data.state;
          line.textContent = label(data.state);
        }
        if (final.indexOf(data.state) < 0) setTimeout(check, 2000);
      })
      .catch(function () { setTimeout(check, 5000); });
  }
  if (final.indexOf(line.dataset.smsState) < 0) setTimeout(check, 1500);
})();
