// A group job's progress: polls GET /orgs/{org}/jobs/{id} until it is done,
// refused or failed, showing a progress bar with the counts and, at the end,
// the conversions (who became a paid user or a guest).

import { get, path } from "../api.js";
import { count } from "../text.js";
import { fill, h, pause, progress, table } from "../ui.js";

const final = new Set(["done", "refused", "failed"]);

function view(job) {
  const total = job.changed || job.members || 0;
  return [
    progress(`Job ${job.id} (${job.kind}): ${job.state}`, job.state === "done" ? Math.max(total, 1) : job.done, Math.max(total, 1),
      `${job.done} of ${count(total, "member")} changed; ${job.pagesDone} of ${count(job.pages, "page")} done` + (job.pagesFailed ? `, ${job.pagesFailed} failed` : "") + `; state: ${job.state}.`),
    job.message ? h("p", { class: job.state === "done" ? "" : "warning" }, job.message) : null,
    job.conversions && job.conversions.length
      ? table("Conversions", [
        { title: "Email", cell: (c) => c.email },
        { title: "Site", cell: (c) => c.site },
        { title: "From", cell: (c) => c.from },
        { title: "To", cell: (c) => h("span", { class: "tag " + c.to }, c.to) },
        { title: "Why", cell: (c) => c.why.join("; ") },
      ], job.conversions)
      : null,
  ];
}

/**
 * Show job in container and poll it until it ends; answers the final job.
 * live() stops the polling once the admin has left the screen.
 */
export async function followJob(org, job, container, live = () => true) {
  const box = h("div", { class: "job", "data-job": job.id, "data-state": job.state });
  fill(container, box);
  fill(box, view(job));
  let delay = 300;
  while (!final.has(job.state) && live()) {
    await pause(delay);
    delay = Math.min(delay * 1.5, 2000);
    job = await get(path("orgs", org, "jobs", job.id));
    box.dataset.state = job.state;
    fill(box, view(job));
  }
  return job;
}
