// The printable pre-hospital care record's Print button (a script file: the pages'
// Content-Security-Policy runs no inline script).
"use strict";

document.getElementById("print-button").addEventListener("click", () => window.print());
