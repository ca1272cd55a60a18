// The upload page, enhanced: each photo is sent on its own with a progress bar, either to the app
// (POST /api/photos) or, with direct upload, straight to S3 with a presigned POST. If the sign-in
// has expired meanwhile, the page says so and keeps the selection: sign in again in another tab,
// press Upload again, and only the photos not yet added are sent. Without JavaScript the form
// posts to the app as usual.
"use strict";

(() => {
  const form = document.querySelector("form[data-upload-api]");
  if (!form || !window.FormData || !window.fetch || !window.DOMParser) return;
  const status = form.querySelector(".upload-status");
  const button = form.querySelector("button[type=submit]");
  const added = new WeakSet(); // files already in the gallery: never sent twice
  let csrf = document.querySelector('meta[name="csrf-token"]').content;
  let signedOut = false;

  class SignedOut extends Error {}
  class StaleForm extends Error {} // the CSRF token belongs to an older session

  // After signing in again the session is new, and so is its CSRF token.
  async function refreshCsrf() {
    const page = await fetch(window.location.href, { credentials: "same-origin" });
    if (!page.ok || page.redirected) throw new SignedOut();
    const html = new DOMParser().parseFromString(await page.text(), "text/html");
    csrf = html.querySelector('meta[name="csrf-token"]').content;
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  function send(url, body, progress, headers = {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (progress) {
        xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = e.loaded / e.total; };
      }
      xhr.onload = () => {
        let data = {};
        try { data = JSON.parse(xhr.responseText || "{}"); } catch { data = {}; }
        resolve({ status: xhr.status, data });
      };
      xhr.onerror = () => reject(new TypeError("unreachable"));
      xhr.send(body);
    });
  }

  async function toApp(url, body, progress, json = false) {
    const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    const { status: code, data } = await send(url, json ? JSON.stringify(body) : body, progress, headers);
    if (code === 401) throw new SignedOut();
    if (code === 400 && data.reason === "csrf") throw new StaleForm();
    if (code >= 300) throw new Error(data.error || `the server answered HTTP ${code}`);
    return data;
  }

  async function viaApp(file, description, progress) {
    const body = new FormData();
    body.append("file", file);
    body.append("description", description);
    await toApp(form.dataset.uploadApi, body, progress);
  }

  async function viaS3(file, description, progress) {
    const ticket = await toApp(form.dataset.directUpload,
      { filename: file.name, content_type: file.type, size: file.size }, null, true);
    const body = new FormData();
    for (const [name, value] of Object.entries(ticket.fields)) body.append(name, value);
    body.append("file", file); // S3 ignores any field after the file
    const { status: code } = await send(ticket.url, body, progress);
    if (code >= 300) throw new Error(`storage answered HTTP ${code}`);
    await toApp(ticket.complete_url, { description }, null, true);
  }

  function line(text, className = "") {
    const item = document.createElement("li");
    item.className = className;
    item.append(text);
    status.append(item);
    return item;
  }

  function askToSignIn() {
    const item = line("Your sign-in has expired. ", "flash error");
    const link = document.createElement("a");
    link.href = form.dataset.signIn;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "Sign in again";
    item.append(link, " (a new tab), then press Upload again: your photos are still selected.");
  }

  form.addEventListener("submit", async (event) => {
    const files = Array.from(form.elements.file.files).filter((f) => !added.has(f));
    if (!files.length) return;
    event.preventDefault();
    button.disabled = true;
    status.replaceChildren();
    const upload = form.dataset.directUpload ? viaS3 : viaApp;
    const description = form.elements.description.value;
    let done = 0;
    let problems = 0;
    try {
      if (signedOut) await refreshCsrf();
      signedOut = false;
      for (const file of files) {
        const item = line(`${file.name} `);
        const progress = document.createElement("progress");
        progress.max = 1;
        item.append(progress);
        try {
          try {
            await upload(file, description, progress);
          } catch (error) {
            if (!(error instanceof StaleForm)) throw error;
            await refreshCsrf(); // signed in again elsewhere: same person, new session
            await upload(file, description, progress);
          }
          added.add(file);
          done += 1;
          item.textContent = `${file.name}: added`;
        } catch (error) {
          if (error instanceof SignedOut) throw error;
          if (error instanceof TypeError && upload === viaS3 && done === 0) {
            form.submit(); // S3 not reachable from this browser: the ordinary form still works
            return;
          }
          problems += 1;
          item.className = "flash error";
          item.textContent = `${file.name}: ${error.message}`;
        }
      }
    } catch (error) {
      if (!(error instanceof SignedOut)) throw error;
      signedOut = true;
      askToSignIn();
    } finally {
      button.disabled = false;
    }
    if (done && !problems && !signedOut) window.location.assign(form.dataset.done);
  });
})();
