// A photo opens over the grid with its own URL (/photos/<id>), so Back closes it and a shared link
// opens the photo's page. ←/→ (or a swipe) go to the previous/next photo, Esc closes. Labels,
// the description and deletion (with a few seconds to Undo) are edited in place with the JSON API.
// Without JavaScript every thumbnail is a plain link to the photo's page.
"use strict";

import { api, csrfToken, el } from "./net.js";
import { altText, chips, gridChips, toast, watchLabels } from "./gallery.js";

const panel = document.getElementById("uploader");
const apiUrl = panel?.dataset.api || "/api/photos";
const searchUrl = panel?.dataset.search || "/";
const UNDO_MS = 5000;
const pendingDeletes = new Map(); // photo id -> send the DELETE now

let box = null; // the open lightbox
let current = null; // the photo shown
let opener = null; // the thumbnail that opened it, focused again on close
let galleryUrl = window.location.href;

const thumbs = () => [...document.querySelectorAll(".grid a.thumb")].filter((a) => !a.closest("li").hidden);

function when(text) {
  return text ? new Date(text).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" }) : "";
}

function render(photo) {
  const figure = el("figure", {},
    el("img", { src: photo.urls.preview, alt: altText(photo), width: String(photo.width), height: String(photo.height) }),
    el("button", { type: "button", class: "nav prev", "aria-label": "Previous photo", text: "‹" }),
    el("button", { type: "button", class: "nav next", "aria-label": "Next photo", text: "›" }),
    el("button", { type: "button", class: "close", "aria-label": "Close", text: "✕" }));
  const facts = [`${photo.width} × ${photo.height}`];
  if (photo.taken_at) facts.push(`taken ${when(photo.taken_at)}`);
  if (photo.camera) facts.push(photo.camera);
  facts.push(`added ${when(photo.created_at)}`);
  const list = el("ul", { class: "chips labels" });
  for (const label of chips(photo.labels)) {
    const score = label.source === "user" ? "yours" : `${Math.round(label.confidence)}%`;
    const chip = el("li", { class: `chip${label.source === "user" ? " own" : ""}`, "data-label": label.name },
      el("a", { href: `${searchUrl}?q=${encodeURIComponent(label.name)}`, text: label.name }),
      el("span", { class: "score", text: score }));
    if (label.parents.length) chip.append(el("span", { class: "parents", text: label.parents.join(", ") }));
    const remove = el("button", { type: "button", class: "remove", "aria-label": `Remove ${label.name}`, text: "×" });
    remove.addEventListener("click", () => edit(`${apiUrl}/${photo.id}/labels/${encodeURIComponent(label.name)}`, "DELETE"));
    chip.append(remove);
    list.append(chip);
  }
  const status = { pending: "Not labelled yet.", failed: `Could not be labelled: ${photo.label_error}`, done: photo.labels.length ? "" : "Nothing recognised in this photo." }[photo.label_status];
  const addLabel = el("form", { class: "add-label" },
    el("input", { type: "text", name: "name", maxlength: "100", placeholder: "Add a label", "aria-label": "New label", required: "" }),
    el("button", { type: "submit", text: "Add" }));
  addLabel.addEventListener("submit", (e) => {
    e.preventDefault();
    edit(`${apiUrl}/${photo.id}/labels`, "POST", { name: addLabel.elements.name.value });
  });
  const describe = el("form", { class: "describe" },
    el("label", { text: "Description" }, el("textarea", { name: "description", rows: "3", maxlength: "2000" })),
    el("button", { type: "submit", text: "Save description" }));
  describe.elements.description.value = photo.description;
  describe.addEventListener("submit", (e) => {
    e.preventDefault();
    edit(`${apiUrl}/${photo.id}`, "PATCH", { description: describe.elements.description.value }, "Description saved.");
  });
  const remove = el("button", { type: "button", class: "danger", text: "Delete photo" });
  remove.addEventListener("click", () => { if (window.confirm("Delete this photo?")) deleteWithUndo(photo); });
  const aside = el("aside", {},
    el("h2", { id: "lightbox-title", class: "filename", text: photo.filename }),
    el("p", { class: "muted", text: facts.join(" · ") }),
    el("h3", { text: "Labels" }), list,
    status ? el("p", { class: "muted label-status", text: status }) : "",
    addLabel, describe,
    el("p", {}, el("a", { class: "button", href: photo.urls.original, target: "_blank", rel: "noopener", text: "Open original" })),
    remove,
    el("p", { class: "edit-status", role: "status" }));
  return [figure, aside];
}

async function edit(url, method, body = null, done = "") {
  const photo = await api(url, { method, body, json: body !== null }).catch((error) => {
    box?.querySelector(".edit-status")?.replaceChildren(error.message);
    return null;
  });
  if (!photo || !box) return;
  show(photo);
  if (done) box.querySelector(".edit-status").textContent = done;
  const item = document.querySelector(`.grid li[data-id="${photo.id}"]`);
  if (item) {
    item.querySelector("img").alt = altText(photo);
    item.querySelector(".chips").replaceWith(gridChips(photo));
  }
}

function show(photo) {
  current = photo;
  box.replaceChildren(...render(photo));
  box.querySelector(".prev").addEventListener("click", () => step(-1));
  box.querySelector(".next").addEventListener("click", () => step(1));
  box.querySelector(".close").addEventListener("click", () => close());
  if (photo.label_status === "pending") {
    watchLabels(photo.id, (labelled) => { if (current?.id === labelled.id && box) showLabels(labelled); });
  }
}

// Labels that arrive by themselves replace the chips and the status alone: the forms keep what
// the person is typing, and the focus stays where it is.
function showLabels(photo) {
  current = photo;
  const [figure, aside] = render(photo);
  box.querySelector(".chips.labels").replaceWith(aside.querySelector(".chips.labels"));
  box.querySelector(".label-status")?.remove();
  const status = aside.querySelector(".label-status");
  if (status) box.querySelector(".add-label").before(status);
  box.querySelector("figure img").alt = figure.querySelector("img").alt;
}

export async function open(id, { push = true } = {}) {
  const answer = await fetch(`${apiUrl}/${id}`, { headers: { Accept: "application/json" } }).catch(() => null);
  const link = thumbs().find((a) => a.closest("li").dataset.id === String(id));
  if (!answer?.ok) { window.location.assign(link?.href || window.location.href); return; }
  const photo = await answer.json();
  if (!box) {
    galleryUrl = push ? window.location.href : galleryUrl;
    box = el("div", { class: "lightbox", role: "dialog", "aria-modal": "true", "aria-labelledby": "lightbox-title" });
    document.body.append(box);
    document.body.classList.add("has-lightbox");
    attachSwipe(box);
  }
  show(photo);
  const url = new URL(link?.href || window.location.href, window.location.href);
  if (push) history.pushState({ lightbox: id }, "", url);
  else history.replaceState({ lightbox: id }, "", url);
  box.querySelector(".close").focus();
}

export function close({ fromHistory = false } = {}) {
  if (!box) return;
  box.remove();
  box = null;
  current = null;
  document.body.classList.remove("has-lightbox");
  if (!fromHistory) {
    if (history.state?.lightbox) history.back();
    else history.replaceState(null, "", galleryUrl);
  }
  opener?.focus();
}

function step(by) {
  const all = thumbs();
  const here = all.findIndex((a) => a.closest("li").dataset.id === String(current?.id));
  const next = all[here + by];
  if (!next) return;
  opener = next;
  open(next.closest("li").dataset.id, { push: false });
}

// A swipe is one finger, mostly sideways: scrolling the details (on a phone) drifts sideways
// too, and two fingers are zooming.
function attachSwipe(node) {
  let start = null;
  node.addEventListener("touchstart", (e) => {
    const { clientX: x, clientY: y } = e.changedTouches[0];
    start = e.touches.length === 1 ? { x, y } : null;
  }, { passive: true });
  node.addEventListener("touchend", (e) => {
    if (start === null) return;
    const dx = e.changedTouches[0].clientX - start.x;
    const dy = e.changedTouches[0].clientY - start.y;
    start = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 2 * Math.abs(dy)) step(dx < 0 ? 1 : -1);
  });
}

// The photo leaves the grid at once; the DELETE is sent only when the Undo has passed
// (or when the page is left, so nothing waits forever).
function deleteWithUndo(photo) {
  const item = document.querySelector(`.grid li[data-id="${photo.id}"]`);
  if (item) item.hidden = true;
  close();
  const send = () => {
    clearTimeout(timer);
    pendingDeletes.delete(photo.id);
    return api(`${apiUrl}/${photo.id}`, { method: "DELETE" }).catch((error) => {
      if (item) item.hidden = false;
      toast(`Not deleted: ${error.message}`);
    });
  };
  const timer = setTimeout(send, UNDO_MS);
  pendingDeletes.set(photo.id, send);
  toast("Photo deleted.", {
    label: "Undo",
    ms: UNDO_MS,
    run: () => {
      clearTimeout(timer);
      pendingDeletes.delete(photo.id);
      if (item) { item.hidden = false; item.querySelector("a").focus(); }
    },
  });
}

window.addEventListener("pagehide", () => {
  for (const id of pendingDeletes.keys()) {
    fetch(`${apiUrl}/${id}`, { method: "DELETE", keepalive: true, headers: { "X-CSRFToken": csrfToken() } });
  }
  pendingDeletes.clear();
});

export function openFrom(link) {
  opener = link;
  return open(link.closest("li").dataset.id);
}

// Tab and Shift+Tab go round the lightbox's own controls while it is open (a modal dialog):
// past the last comes the first, and the page behind is never reached.
function trapFocus(e) {
  const all = [...box.querySelectorAll("a[href], button, input, textarea")];
  if (!all.length) return;
  const first = all[0];
  const last = all[all.length - 1];
  const at = document.activeElement;
  if (e.shiftKey ? at === first || !box.contains(at) : at === last || !box.contains(at)) {
    e.preventDefault();
    (e.shiftKey ? last : first).focus();
  }
}

document.addEventListener("keydown", (e) => {
  if (box && e.key === "Tab") trapFocus(e);
  if (!box || e.target.closest?.("input, textarea")) return;
  if (e.key === "Escape") close();
  else if (e.key === "ArrowRight") step(1);
  else if (e.key === "ArrowLeft") step(-1);
});

window.addEventListener("popstate", (e) => {
  if (!e.state?.lightbox) close({ fromHistory: true }); // gallery.js opens on the way forward
});
