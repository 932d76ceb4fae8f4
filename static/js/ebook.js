// E-book counter signup: the card number field ("v" + Enter asks to generate a number),
// and printing the receipt on 80 mm or A4.
(function () {
  "use strict";

  const card = document.getElementById("card_number");
  const dialog = document.getElementById("generate-dialog");
  const button = document.getElementById("generate-card-number");
  const hint = document.getElementById("card_number-hint");
  const scanButton = document.getElementById("scan-card-number");

  function askToGenerate() {
    if (dialog && typeof dialog.showModal === "function") {
      dialog.showModal();
      dialog.querySelector("[data-answer=yes]").focus();
    } else {
      useGeneratedNumber();
    }
  }

  function useGeneratedNumber() {
    // The real number is taken from the branch's sequence only when the save succeeds.
    card.value = card.dataset.placeholderNumber;
    card.readOnly = true;
    if (hint) hint.textContent = hint.dataset.generatedText;
    if (button) button.hidden = true;
    if (scanButton) scanButton.hidden = false;
    card.dispatchEvent(new Event("change", { bubbles: true }));
    const next = document.getElementById("initials");
    if (next) next.focus();
  }

  if (card) {
    card.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") return;
      // A scanner ends with Enter too: never submit the form from this field.
      e.preventDefault();
      if (card.value.trim().toLowerCase() === "v") {
        askToGenerate();
      } else if (card.value.trim()) {
        const next = document.getElementById("initials");
        if (next) next.focus();
      }
    });
  }
  if (button && card) {
    button.addEventListener("click", askToGenerate);
  }
  if (scanButton && card) {
    // After "v" the staff member may still scan a card after all (a correction first gets the
    // customer's own number back, to keep it).
    scanButton.addEventListener("click", function () {
      card.value = card.dataset.keptNumber || "";
      card.readOnly = false;
      if (hint) hint.textContent = hint.dataset.scanText;
      scanButton.hidden = true;
      if (button) button.hidden = false;
      card.dispatchEvent(new Event("change", { bubbles: true }));
      card.focus();
    });
  }
  if (dialog) {
    dialog.addEventListener("click", function (e) {
      const answer = e.target.closest("[data-answer]");
      if (!answer) return;
      dialog.close();
      if (answer.dataset.answer === "yes") {
        useGeneratedNumber();
      } else {
        card.focus();
      }
    });
    dialog.addEventListener("cancel", function () {
      setTimeout(function () { card.focus(); }, 0);
    });
  }

  document.querySelectorAll("[data-print]").forEach(function (printButton) {
    printButton.addEventListener("click", function () {
      document.body.classList.remove("receipt-80mm", "receipt-a4");
      document.body.classList.add(printButton.dataset.print);
      window.print();
    });
  });
})();
