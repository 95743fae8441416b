// The printable month report's Print button. A script file, not an onclick attribute: the pages'
// Content-Security-Policy runs no inline script (dispatch/settings.py).
"use strict";

document.getElementById("print-button").addEventListener("click", () => window.print());
