// Solve the proof of work a form carries (an ALTCHA v1 challenge, idp/otp/pow.py): find the
// number n up to maxNumber with SHA-256(salt + n) equal to the challenge, put the solution in the
// form's "altcha" field and send the form again. Only a shared SMS budget being spent asks for it.
(function () {
  var boxes = document.querySelectorAll("[data-pow-challenge]");
  if (!boxes.length || !window.crypto || !window.crypto.subtle || !window.TextEncoder) return;
  var BATCH = 256; // digests in flight at once: WebCrypto answers asynchronously

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function digest(encoder, text) {
    return window.crypto.subtle.digest("SHA-256", encoder.encode(text)).then(hex);
  }

  async function solve(challenge) {
    var encoder = new TextEncoder();
    for (var start = 0; start <= challenge.maxNumber; start += BATCH) {
      var batch = [];
      for (var n = start; n < start + BATCH && n <= challenge.maxNumber; n++) {
        batch.push(digest(encoder, challenge.salt + n));
      }
      var hashes = await Promise.all(batch);
      var found = hashes.indexOf(challenge.challenge);
      if (found >= 0) return start + found;
    }
    return null;
  }

  function readyToSend(form) {
    // A form whose password the person must type again is left for them to send.
    return !Array.prototype.some.call(form.querySelectorAll("input[type=password]"),
      function (input) { return !input.value; });
  }

  boxes.forEach(function (box) {
    var challenge = JSON.parse(box.getAttribute("data-pow-challenge"));
    var status = box.querySelector("[data-pow-status]");
    var form = box.closest("form");
    var buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (button) { button.disabled = true; });
    solve(challenge).then(function (number) {
      if (number === null) throw new Error("no solution");
      box.querySelector("input[name=altcha]").value = btoa(JSON.stringify({
        algorithm: challenge.algorithm, challenge: challenge.challenge, number: number,
        salt: challenge.salt, signature: challenge.signature
      }));
      box.classList.add("pow--done");
      buttons.forEach(function (button) { button.disabled = false; });
      var send = readyToSend(form);
      status.textContent = box.getAttribute(send ? "data-label-done" : "data-label-ready");
      if (send) form.submit();
    }).catch(function () {
      box.classList.add("pow--failed");
      status.textContent = box.getAttribute("data-label-failed");
    });
  });
})();
