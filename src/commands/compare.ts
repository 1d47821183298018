import { Args, Flags } from '@oclif/core';
import { SnapshotCommand } from '../base-command.js';
import { jsonSafe, type CompareReport } from '../core/compare/model.js';
import { compareExitCode } from '../core/compare/verdict.js';
import { renderCompareTable, renderMarkdown } from '../render/compare.js';
import { compareOutputs } from '../services/compare.js';
import { checkReportTargets, writeReports } from '../services/reports.js';

export default class Compare extends SnapshotCommand {
  static override summary = 'Judge outputs against a baseline: identical, equivalent within tolerance, or different.';

  static override description = [
    'Compares two folders (or two files) output by output: metrics JSON key by key, CSV cell by cell, .npy/.npz/HDF5 tensor by tensor, .keras archives by their weights and config (ignoring the save time and Python object ids), anything else by bytes.',
    'BASELINE may also be a snapshot file: its kept baseline is used, checked against the manifest capture wrote.',
    'Without --policy every output must be bit-identical. Exit codes: 0 identical or equivalent, 1 different, 7 error (an output could not be read or judged), 3 bad input.',
  ].join('\n\n');

  static override examples = [
    '<%= config.bin %> <%= command.id %> baseline/ out/',
    '<%= config.bin %> <%= command.id %> snapshot.yaml out/ --policy examples/policies/cross-gpu.yaml',
    '<%= config.bin %> <%= command.id %> baseline/ out/ --junit report.xml --markdown "$GITHUB_STEP_SUMMARY"',
  ];

  static override args = {
    baseline: Args.string({ description: 'baseline folder, file, or snapshot with a baseline', required: true }),
    candidate: Args.string({ description: 'candidate folder or file', required: true }),
  };

  static override flags = {
    policy: Flags.string({ description: 'tolerance policy (YAML); default: bitwise everywhere', helpValue: 'FILE' }),
    junit: Flags.string({ description: 'also write a JUnit XML report here', helpValue: 'FILE' }),
    markdown: Flags.string({ description: 'also write a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)', helpValue: 'FILE' }),
  };

  async run(): Promise<CompareReport> {
    const { args, flags } = await this.parse(Compare);
    // Before the work: a report that cannot be written must not lose a verdict that took minutes.
    const targets = { junit: flags.junit, markdown: flags.markdown };
    await checkReportTargets(targets);
    const { report, warnings } = await compareOutputs({ baseline: args.baseline, candidate: args.candidate, policyPath: flags.policy, cwd: process.cwd(), log: (line) => this.note(line) });
    for (const warning of warnings) this.addWarning(warning);
    await writeReports(targets, { junit: async () => (await import('../render/junit.js')).renderJUnit(report), markdown: () => renderMarkdown(report) }, process.env);
    if (!this.jsonEnabled()) this.log(renderCompareTable(report, { color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }).join('\n'));
    this.resultStatus = compareExitCode(report.verdict);
    process.exitCode = this.resultStatus;
    // NaN, infinities, -0 and big integers survive --json as strings.
    return jsonSafe(report);
  }
}
