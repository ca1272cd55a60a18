// Direct upload: each file goes from the browser straight to S3 with a presigned POST, then the
// app is told to check and record it. Loaded only when the server enables it; if S3 cannot be
// reached (e.g. the bucket has no CORS rule), the form is submitted to the app as usual.
"use strict";

(() => {
  const form = document.querySelector("form[data-direct-upload]");
  if (!form || !window.FormData || !window.fetch) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = form.querySelector(".upload-status");

  async function api(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  function sendToS3(ticket, file, progress) {
    return new Promise((resolve, reject) => {
      const body = new FormData();
      for (const [name, value] of Object.entries(ticket.fields)) body.append(name, value);
      body.append("file", file); // S3 ignores any field after the file
      const xhr = new XMLHttpRequest();
      xhr.open("POST", ticket.url);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = e.loaded / e.total; };
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`storage said HTTP ${xhr.status}`)));
      xhr.onerror = () => reject(new TypeError("storage unreachable"));
      xhr.send(body);
    });
  }

  function line(file) {
    const item = document.createElement("li");
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    item.append(`${file.name} `, progress);
    status.append(item);
    return { item, progress };
  }

  async function upload(file, description) {
    const { item, progress } = line(file);
    const ticket = await api(form.dataset.directUpload, {
      filename: file.name, content_type: file.type, size: file.size,
    });
    await sendToS3(ticket, file, progress);
    await api(ticket.complete_url, { description });
    item.textContent = `${file.name}: added`;
  }

  form.addEventListener("submit", async (event) => {
    const files = Array.from(form.elements.file.files);
    if (!files.length) return;
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.replaceChildren();
    const description = form.elements.description.value;
    let added = 0;
    let problems = 0;
    for (const file of files) {
      try {
        await upload(file, description);
        added += 1;
      } catch (error) {
        if (error instanceof TypeError && added === 0) {
          form.submit(); // S3 not reachable from this browser: the ordinary form still works
          return;
        }
        problems += 1;
        const item = document.createElement("li");
        item.className = "flash error";
        item.textContent = `${file.name}: ${error.message}`;
        status.append(item);
      }
    }
    button.disabled = false;
    if (added && !problems) window.location.assign(form.dataset.done);
  });
})();
