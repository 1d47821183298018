// Report files beside a verdict (JUnit for CI test views, Markdown for a job summary): checked
// before the work, so a report that cannot be written never loses a verdict that took minutes,
// and written atomically after it.
import { resolve } from 'node:path';
import { appendText, assertReportTarget, writeFileAtomic } from '../adapters/fs.js';

export interface ReportTargets {
  junit?: string;
  markdown?: string;
}

export async function checkReportTargets(targets: ReportTargets): Promise<void> {
  if (targets.junit) await assertReportTarget(targets.junit, '--junit');
  if (targets.markdown) await assertReportTarget(targets.markdown, '--markdown');
}

/** `render` is called only for the reports asked for (xmlbuilder2 loads on first use). */
export async function writeReports(targets: ReportTargets, render: { junit: () => Promise<string>; markdown: () => string }, env: NodeJS.ProcessEnv): Promise<void> {
  if (targets.junit) await writeFileAtomic(targets.junit, await render.junit());
  if (targets.markdown) {
    // GitHub Actions' job summary is shared by every step that writes to it: append, don't replace.
    const summary = env.GITHUB_STEP_SUMMARY;
    const shared = summary !== undefined && resolve(targets.markdown) === resolve(summary);
    await (shared ? appendText : writeFileAtomic)(targets.markdown, render.markdown());
  }
}
