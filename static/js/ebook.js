// E-book counter signup: the card number field ("v" + Enter asks to generate a number), an
// addition typed in the house number moved to its own field, and printing the receipt on
// 80 mm (a page as long as the slip) or A4.
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

  // "12a" typed in the house number: the number stays, the "a" goes to the addition field (as
  // the server does on saving, forms.HouseNumberField), unless that field has something already.
  const houseNumber = document.getElementById("house_number");
  const addition = document.getElementById("house_number_addition");
  if (houseNumber && addition) {
    houseNumber.addEventListener("change", function () {
      const found = /^(\d{1,6})\s*[-/]?\s*([A-Za-z0-9]{1,10})$/.exec(houseNumber.value.trim());
      if (found && !addition.value.trim()) {
        houseNumber.value = found[1];
        addition.value = found[2];
      }
    });
  }

  // The page shows its fields before its scripts run (a moment, longer on a busy machine): what
  // is typed meanwhile reaches no listener, and the tariffs, the address and the cost summary
  // would stay as they were. Once htmx has bound the form, each field changed so far says so.
  const form = document.getElementById("signup-form");
  if (form && typeof htmx !== "undefined") {
    htmx.onLoad(function (elt) {
      if (elt !== document.body) return;
      form.querySelectorAll("input, select, textarea").forEach(function (field) {
        if (Live.edited(field)) field.dispatchEvent(new Event("change", { bubbles: true }));
      });
    });
  }

  // The 80 mm slip's page is as long as the slip (and its 4 mm margins): a roll printer feeds
  // no blank paper after it. Measured with the slip's own layout (ebook.css), in millimetres.
  const MM = 96 / 25.4;
  const SLIP_MARGIN_MM = 4;

  function fitSlipPage() {
    const slip = document.querySelector(".receipt");
    if (!slip || !document.body.classList.contains("receipt-80mm")) return;
    const length = Math.ceil(slip.getBoundingClientRect().height / MM + 2 * SLIP_MARGIN_MM + 2);
    for (const sheet of document.styleSheets) {
      let rules;
      try { rules = sheet.cssRules; } catch (e) { continue; }
      for (const rule of rules) {
        if (rule instanceof CSSPageRule && rule.selectorText === "receipt-80mm") {
          rule.style.setProperty("size", "80mm " + length + "mm");
        }
      }
    }
  }

  document.querySelectorAll("[data-print]").forEach(function (printButton) {
    printButton.addEventListener("click", function () {
      document.body.classList.remove("receipt-80mm", "receipt-a4");
      document.body.classList.add(printButton.dataset.print);
      fitSlipPage();
      window.print();
    });
  });
  window.addEventListener("beforeprint", fitSlipPage);
})();
