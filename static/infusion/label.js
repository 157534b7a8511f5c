// A bag's label page: the print button (the page's print CSS leaves the label alone on the paper).

document.querySelector(".ph-print")?.addEventListener("click", () => window.print());
