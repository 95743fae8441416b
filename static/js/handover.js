// The shift handover page (templates/handover.html): rendered on the server; this only prints it.
document.getElementById("print-handover")?.addEventListener("click", () => window.print());
