// One confirmation for the whole site, in the page: the <dialog> of base.html asks the question of
// an element's hx-confirm (htmx) or a form's data-confirm, in the page's language. The default
// button (Yes) has the focus, so Enter confirms; Escape or No cancels, and the focus goes back to
// the button that asked. Confirm.ask(question, asker) -> a promise of true or false.
(function () {
  "use strict";
  let pending = null;  // the open question's resolve
  let asker = null;

  // Looked up each time: a boosted link brings a new body, and the dialog with it.
  function dialog() {
    return document.getElementById("confirm-dialog");
  }

  function ask(question, from) {
    const box = dialog();
    if (!box) return Promise.resolve(false);  // every page has it (base.html): nothing is done unasked
    settle(false);  // a question still open is answered No
    const focused = document.activeElement;
    asker = focused && focused !== document.body ? focused : from;
    box.querySelector("[data-confirm-question]").textContent = question;
    box.showModal();
    box.querySelector("[data-confirm-answer=yes]").focus();
    return new Promise(function (resolve) { pending = resolve; });
  }

  function settle(yes) {
    if (!pending) return;
    const resolve = pending;
    pending = null;
    const box = dialog();
    if (box && box.open) box.close();
    if (asker && asker.isConnected && typeof asker.focus === "function") asker.focus();
    asker = null;
    resolve(yes);
  }

  document.addEventListener("click", function (e) {
    const answer = e.target.closest("#confirm-dialog [data-confirm-answer]");
    if (answer) settle(answer.dataset.confirmAnswer === "yes");
  });
  // Escape closes the dialog (its "close" does not bubble: heard while it goes down).
  document.addEventListener("close", function (e) {
    if (e.target.id === "confirm-dialog") settle(false);
  }, true);

  // htmx asks before a request of an element with hx-confirm; the request waits for Yes.
  document.addEventListener("htmx:confirm", function (e) {
    if (!e.detail.question) return;
    e.preventDefault();
    ask(e.detail.question, e.detail.elt).then(function (yes) {
      if (yes) e.detail.issueRequest(true);
    });
  });

  // An ordinary form with data-confirm: sent again, with the same button, once confirmed.
  document.addEventListener("submit", function (e) {
    const form = e.target.closest("form[data-confirm]");
    if (!form) return;
    if (form.dataset.confirmed === "yes") {
      delete form.dataset.confirmed;
      return;
    }
    e.preventDefault();
    e.stopImmediatePropagation();
    const submitter = e.submitter;
    ask(form.dataset.confirm, submitter || form).then(function (yes) {
      if (!yes) return;
      form.dataset.confirmed = "yes";
      if (submitter) form.requestSubmit(submitter);
      else form.requestSubmit();
    });
  }, true);

  window.Confirm = { ask: ask };
})();
