// The photo's page: a photo still being labelled shows its labels when they are ready.
"use strict";

import { watchLabels } from "./gallery.js";

const article = document.querySelector('article.photo[data-status="pending"]');
if (article) {
  watchLabels(article.dataset.id, async (photo) => {
    const answer = await fetch(window.location.href).catch(() => null);
    if (!answer?.ok) return;
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.querySelector("article.photo");
    // Only the labels change: the forms around them keep what the person is typing.
    article.querySelector(".label-list").replaceWith(document.adoptNode(fresh.querySelector(".label-list")));
    article.querySelector("figure img").alt = fresh.querySelector("figure img").alt;
    article.dataset.status = photo.label_status;
  });
}

// ←/→ go to the newer/older photo, Esc back to the grid (the links do the same without JS).
document.addEventListener("keydown", (e) => {
  if (e.target.closest?.("input, textarea") || e.altKey || e.ctrlKey || e.metaKey) return;
  const to = { ArrowLeft: "a[rel=prev]", ArrowRight: "a[rel=next]", Escape: "a[data-close]" }[e.key];
  const link = to && document.querySelector(`.steps ${to}`);
  if (link) window.location.assign(link.href);
});
