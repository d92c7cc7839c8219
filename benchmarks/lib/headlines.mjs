// The README's headline rows (lib/report.mjs headlineTable): each names a result line of the
// full suite by bench, a part of its variant, its metric and (optionally) a part of its
// baseline. The figures come from the run; only the choice of rows is written here.
export const HEADLINES = [];
