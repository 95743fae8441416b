// The triage protocol editor in the admin (templates/admin/dispatch/triageprotocol/editor.html):
// an answer that leads to another question has no outcome, so its outcome choices are disabled
// (and so not sent) while it does. The page works without this script: the server then says
// which answer has both a next question and an outcome. It shows no words of its own.
"use strict";

(() => {
  const editor = document.getElementById("triage-editor");
  if (!editor) return;
  const LEADS_TO = "select[name$='-leads_to']";

  function sync(select) {
    const row = select.closest("tr");
    const toQuestion = select.value.startsWith("#");
    row.classList.toggle("editor-leads-on", toQuestion);
    for (const field of row.querySelectorAll(".editor-outcome select")) field.disabled = toQuestion;
  }

  editor.querySelectorAll(LEADS_TO).forEach(sync);
  editor.addEventListener("change", (event) => {
    if (event.target.matches(LEADS_TO)) sync(event.target);
  });
})();
