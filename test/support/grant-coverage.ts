/** What a local runtime writes when it stops (PARLEY_IAM_USAGE_FILE): the table's grants and how often each allowed a call. */
export interface GrantUsage {
  grants: string[];
  used: Record<string, number>;
}

/** Grants no runtime of the run used, in table order. */
export function unusedGrants(reports: readonly GrantUsage[]): string[] {
  const used = new Set(reports.flatMap((r) => Object.keys(r.used)));
  return [...new Set(reports.flatMap((r) => r.grants))].filter((g) => !used.has(g));
}
