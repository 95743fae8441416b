// The dispatch slip (派车单, /station/slip/<assignment>/): prints itself once it opens, and the
// Print button prints it again. ?print=0 only shows it (a screen that wants to look first).
"use strict";
import { $ } from "./shared.js";

$("slip-print").addEventListener("click", () => window.print());
if (new URLSearchParams(location.search).get("print") !== "0") {
  // After the first paint, so the page printed is the page shown.
  requestAnimationFrame(() => setTimeout(() => window.print(), 50));
}
