// Uploading, enhanced: every file listed at once with a preview and its own progress bar, three
// at a time, to the app (POST /api/photos) or, with direct upload, straight to S3 with a presigned
// POST. A failed file shows the server's message and can be retried alone. If the sign-in has
// expired meanwhile, the page says so and keeps the selection: sign in again in another tab,
// press Upload again, and only the photos not yet added are sent. Photos can be dropped anywhere
// on the gallery or the upload page. Without JavaScript the form posts to the app as usual.
"use strict";

import { SignedOut, StaleForm, api, dropAnywhere, el, refreshCsrf, send } from "./net.js";

const AT_ONCE = 3;

export class Uploader {
  // root carries data-upload-api (and data-direct-upload, data-sign-in) and holds the list.
  constructor(root, { description = () => "", onAdded = () => {}, onFinished = () => {} } = {}) {
    this.root = root;
    this.description = description;
    this.onAdded = onAdded;
    this.onFinished = onFinished;
    this.items = new Map(); // File -> item
    this.running = 0;
    this.signedOut = false;
    this.list = root.querySelector(".uploads") || root.appendChild(el("ul", { class: "uploads" }));
    this.overall = root.querySelector(".overall") ||
      root.insertBefore(el("p", { class: "overall", role: "status" }), this.list);
    this.send = root.dataset.directUpload ? this.viaS3 : this.viaApp;
    window.addEventListener("beforeunload", (event) => {
      if (this.busy()) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  busy() {
    return [...this.items.values()].some((i) => i.state === "queued" || i.state === "sending");
  }

  // List the files at once (a preview, a name, a bar); `start` queues those not yet added.
  show(files) {
    for (const file of files) {
      if (this.items.has(file)) continue;
      const preview = el("img", { alt: "", width: "48", height: "48" });
      if (file.type.startsWith("image/")) preview.src = URL.createObjectURL(file);
      preview.onerror = () => preview.removeAttribute("src");
      const progress = el("progress", { max: "1", value: "0", "aria-label": `${file.name} progress` });
      const status = el("span", { class: "state", text: "waiting" });
      const li = el("li", {}, preview, el("span", { class: "name", text: file.name }), status, progress);
      this.list.append(li);
      this.items.set(file, { file, li, progress, status, state: "ready" });
    }
    this.summarise();
  }

  start(files) {
    this.show(files);
    for (const file of files) {
      const item = this.items.get(file);
      if (item.state !== "added" && item.state !== "sending") this.queue(item);
    }
    this.pump();
  }

  queue(item) {
    item.state = "queued";
    item.li.className = "";
    item.li.querySelector(".error")?.remove();
    item.status.textContent = "waiting";
    item.progress.value = 0;
  }

  async pump() {
    if (this.signedOut) {
      try {
        await refreshCsrf();
        this.signedOut = false;
        this.root.querySelector(".signed-out")?.remove();
      } catch {
        this.pause();
        return;
      }
    }
    for (const item of this.items.values()) {
      if (this.running >= AT_ONCE) break;
      if (item.state === "queued") this.run(item);
    }
    this.summarise();
  }

  async run(item) {
    item.state = "sending";
    item.status.textContent = "sending";
    this.running += 1;
    const progress = (v) => { item.progress.value = v; };
    try {
      let photo;
      try {
        photo = await this.send(item.file, this.description(), progress);
      } catch (error) {
        if (!(error instanceof StaleForm)) throw error;
        await refreshCsrf(); // signed in again elsewhere: same person, new session
        photo = await this.send(item.file, this.description(), progress);
      }
      item.state = "added";
      item.progress.value = 1;
      item.li.className = "done";
      item.status.textContent = "added";
      item.li.setAttribute("aria-label", `${item.file.name}: added`);
      this.onAdded(photo);
    } catch (error) {
      this.fail(item, error);
    } finally {
      this.running -= 1;
    }
    if (!this.signedOut) await this.pump();
    else this.summarise();
    if (!this.busy()) this.onFinished(this.counts());
  }

  // Signed out: nothing more is sent until Upload is pressed again.
  pause() {
    for (const item of this.items.values()) if (item.state === "queued") item.state = "ready";
    this.askToSignIn();
    this.summarise();
    this.onFinished(this.counts());
  }

  counts() {
    const all = [...this.items.values()];
    const count = (state) => all.filter((i) => i.state === state).length;
    return { added: count("added"), failed: count("failed"), total: all.length };
  }

  fail(item, error) {
    if (error instanceof SignedOut) {
      item.state = "ready";
      item.status.textContent = "waiting";
      this.signedOut = true;
      for (const other of this.items.values()) if (other.state === "queued") other.state = "ready";
      this.askToSignIn();
      return;
    }
    if (error instanceof TypeError && this.send === this.viaS3 && this.onUnreachable &&
        ![...this.items.values()].some((i) => i.state === "added")) {
      this.onUnreachable(); // S3 not reachable from this browser: the ordinary form still works
      return;
    }
    item.state = "failed";
    item.li.className = "failed";
    item.status.textContent = "";
    const retry = el("button", { type: "button", class: "link", text: "Retry" });
    retry.addEventListener("click", () => { this.queue(item); this.pump(); });
    item.status.append(retry);
    item.li.append(el("span", { class: "error", role: "alert", text: `${item.file.name}: ${error.message}` }));
  }

  summarise() {
    const { added, failed, total } = this.counts();
    if (this.busy()) {
      this.overall.textContent = `${added} of ${total} added`;
    } else if (added || failed) {
      this.overall.textContent = `${added} added` + (failed ? `, ${failed} not added` : "");
    } else {
      this.overall.textContent = total ? `${total} photo${total === 1 ? "" : "s"} ready to upload` : "";
    }
  }

  askToSignIn() {
    if (this.root.querySelector(".signed-out")) return;
    const link = el("a", { href: this.root.dataset.signIn, target: "_blank", rel: "noopener", text: "Sign in again" });
    const note = el("p", { class: "flash error signed-out", role: "alert" }, "Your sign-in has expired. ", link,
      " (a new tab), then press Upload again: your photos are still selected.");
    this.root.insertBefore(note, this.list);
  }

  async viaApp(file, description, progress) {
    const body = new FormData();
    body.append("file", file);
    body.append("description", description);
    const data = await api(this.root.dataset.uploadApi, { body, progress });
    return data.photos[0];
  }

  async viaS3(file, description, progress) {
    const ticket = await api(this.root.dataset.directUpload,
      { body: { filename: file.name, content_type: file.type, size: file.size }, json: true });
    const body = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) body.append(name, value);
    body.append("file", file); // S3 ignores any field after the file
    const { status } = await send(ticket.url, body, { progress });
    if (status >= 300) throw new Error(`storage answered HTTP ${status}`);
    return api(ticket.complete_url, { body: { description }, json: true });
  }
}

// The upload page: the form's files (picked or dropped) are listed at once, sent on Upload.
function uploadPage(form) {
  const input = form.elements.file;
  const button = form.querySelector("button[type=submit]");
  const dropped = [];
  const uploader = new Uploader(form, {
    description: () => form.elements.description.value,
    onFinished: ({ added, failed }) => {
      button.disabled = false;
      if (added && !failed && !uploader.signedOut) {
        sessionStorage.setItem("photos-added", String(added));
        window.location.assign(form.dataset.done);
      }
    },
  });
  uploader.onUnreachable = () => form.submit();
  const chosen = () => [...input.files, ...dropped];
  input.addEventListener("change", () => uploader.show(chosen()));
  dropAnywhere((files) => { dropped.push(...files); input.required = false; uploader.show(chosen()); });
  form.addEventListener("submit", (event) => {
    const files = chosen();
    if (!files.length) return;
    event.preventDefault();
    if (files.every((f) => uploader.items.get(f)?.state === "added")) return;
    button.disabled = true;
    uploader.start(files);
  });
}

const form = document.querySelector("form[data-upload-api]");
if (form && window.FormData && window.DOMParser) uploadPage(form);
