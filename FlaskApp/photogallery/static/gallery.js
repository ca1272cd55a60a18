// The gallery, enhanced: drop photos anywhere to upload them, new photos appear at once, labels
// arrive by themselves, and older photos load while scrolling. Without JavaScript the grid,
// the "Older photos" link and the upload page do the same with page loads.
"use strict";

import { dropAnywhere, el } from "./net.js";

// Loaded when first needed, so the page starts light.
const uploadModule = () => import("./upload.js");
const lightboxModule = () => import("./lightbox.js");

const grid = () => document.querySelector(".grid");
const panel = document.getElementById("uploader");
const photosUrl = panel?.dataset.photos || "/photos/";
const searchUrl = panel?.dataset.search || "/";
const apiUrl = panel?.dataset.api || "/api/photos";

export function toast(text, action) {
  document.querySelector(".toast")?.remove();
  const box = el("div", { class: "toast", role: "status" }, el("span", { text }));
  if (action) {
    const button = el("button", { type: "button", text: action.label });
    button.addEventListener("click", () => { box.remove(); action.run(); });
    box.append(button);
  }
  document.body.append(box);
  setTimeout(() => box.remove(), action?.ms || 5000);
  return box;
}

export function altText(photo) {
  if (photo.description) return photo.description;
  if (photo.labels.length) return photo.labels.slice(0, 3).map((l) => l.name).join(", ");
  return `Photo ${photo.filename}`;
}

// Labels as chips: a label that is another's parent is folded into that chip (as the pages do).
export function chips(labels) {
  const folded = new Set(labels.flatMap((l) => l.parents.map((p) => p.toLowerCase())));
  return labels.filter((l) => l.source === "user" || !folded.has(l.name.toLowerCase()));
}

export function gridChips(photo) {
  const line = el("p", { class: "chips" });
  if (photo.labels.length) {
    for (const label of chips(photo.labels).slice(0, 3)) {
      line.append(el("a", { class: "chip", href: `${searchUrl}?q=${encodeURIComponent(label.name)}`, text: label.name }));
    }
  } else {
    const text = { done: "Nothing recognised", failed: "Could not be labelled" }[photo.label_status];
    line.append(el("span", { class: "muted", text: text || "Not labelled yet" }));
  }
  return line;
}

// A grid column's width, as in gallery.html (which says why).
const THUMB_SIZES = "(max-width: 643px) 33vw, 240px";

export function photoItem(photo) {
  const img = el("img", {
    src: photo.urls.thumbnail, srcset: `${photo.urls.thumbnail} 400w, ${photo.urls.preview} 1600w`, sizes: THUMB_SIZES,
    alt: altText(photo), loading: "lazy", width: "400", height: "400",
  });
  const link = el("a", { class: "thumb", href: `${photosUrl}${photo.id}` }, img);
  return el("li", { "data-id": String(photo.id), "data-status": photo.label_status }, link, gridChips(photo));
}

function ensureGrid() {
  if (grid()) return grid();
  document.querySelector(".empty")?.remove();
  const list = el("ul", { class: "grid" });
  panel.after(el("section", { class: "month" }, list));
  return list;
}

// Pending photos ask again after 1, 2, 4… seconds (at most 30), until labelled or 10 minutes.
export function watchLabels(photoId, onLabelled) {
  let wait = 1000;
  const started = Date.now();
  const ask = async () => {
    const answer = await fetch(`${apiUrl}/${photoId}`, { headers: { Accept: "application/json" } }).catch(() => null);
    if (answer?.status === 404) return;
    const photo = answer?.ok ? await answer.json() : null;
    if (photo && photo.label_status !== "pending") { onLabelled(photo); return; }
    wait = Math.min(wait * 2, 30000);
    if (Date.now() - started < 600000) setTimeout(ask, wait);
  };
  setTimeout(ask, wait);
}

function refreshItem(photo) {
  const item = document.querySelector(`.grid li[data-id="${photo.id}"]`);
  if (!item) return;
  item.dataset.status = photo.label_status;
  item.querySelector("img").alt = altText(photo);
  item.querySelector(".chips").replaceWith(gridChips(photo));
}

function watchPending(root = document) {
  for (const item of root.querySelectorAll('.grid li[data-status="pending"]')) {
    watchLabels(item.dataset.id, refreshItem);
  }
}

// Older pages load as the "Older photos" link comes into view; the link stays for no-JS.
function infiniteScroll() {
  const more = () => document.querySelector(".more a");
  if (!more() || !window.IntersectionObserver) return;
  let loading = false;
  const observer = new IntersectionObserver(async (entries) => {
    if (loading || !entries.some((e) => e.isIntersecting)) return;
    const link = more();
    if (!link) return;
    loading = true;
    const html = await (await fetch(link.href)).text();
    const page = new DOMParser().parseFromString(html, "text/html");
    const sections = [...document.querySelectorAll("section.month")];
    let last = sections[sections.length - 1];
    for (const section of page.querySelectorAll("section.month")) {
      if (section.dataset.month === last.dataset.month) {
        last.querySelector(".grid").append(...[...section.querySelectorAll(".grid > li")].map((n) => document.adoptNode(n)));
      } else {
        last.after(document.adoptNode(section));
        last = section;
      }
    }
    watchPending(last);
    const next = page.querySelector(".more a");
    if (next) link.href = next.href;
    else { observer.disconnect(); link.closest(".more").remove(); }
    loading = false;
    document.dispatchEvent(new CustomEvent("gallery:more"));
  }, { rootMargin: "800px" });
  observer.observe(more().closest(".more"));
}

function uploads() {
  if (!panel || !window.FormData || !window.DOMParser) return;
  let fresh = 0;
  let uploader = null;
  dropAnywhere(async (files) => {
    panel.hidden = false;
    uploader ||= uploadModule().then(({ Uploader }) => new Uploader(panel, {
        onAdded: (photo) => {
          fresh += 1;
          ensureGrid().prepend(photoItem(photo));
          if (photo.label_status === "pending") watchLabels(photo.id, refreshItem);
        },
        onFinished: ({ failed }) => {
          if (fresh) toast(`${fresh} added` + (failed ? `, ${failed} not added` : ""));
          fresh = 0;
        },
      }));
    (await uploader).start(files);
  });
  const added = sessionStorage.getItem("photos-added");
  if (added) {
    sessionStorage.removeItem("photos-added");
    toast(`${added} added`);
  }
}

// A thumbnail opens the lightbox (with its own URL); Back and Forward reopen it.
function lightbox() {
  document.addEventListener("click", (e) => {
    const link = e.target.closest?.(".grid a.thumb");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    lightboxModule().then((m) => m.openFrom(link));
  });
  window.addEventListener("popstate", (e) => {
    if (e.state?.lightbox) lightboxModule().then((m) => m.open(e.state.lightbox, { push: false }));
  });
}

uploads();
lightbox();
watchPending();
infiniteScroll();
document.addEventListener("gallery:replaced", () => { watchPending(); infiniteScroll(); });
