/**
 * The figure and table layer the notebooks call: one job per module, re-exported here.
 * @module
 */
export * from "./style.ts";
export * from "./svg.ts";
export * from "./escape.ts";
export * from "./figure.ts";
export * from "./display.ts";
export * from "./export.ts";
export * from "./pdf.ts";
export * from "./preset.ts";
export * from "./colour_check.ts";
export * from "./table.ts";
export * from "./stats.ts";
export * from "./panel.ts";
export * from "../data/diversity_series.ts";
export * from "./metric_labels.ts";
export * from "./diversity_grid.ts";
export * from "./diversity_heatmap.ts";
export * from "./diversity_vegalite.ts";
export * from "./score_input.ts";
export * from "./cdf.ts";
export * from "./histograms.ts";
export * from "./reliability.ts";
export * from "./kl.ts";
export * from "./token_colours.ts";
export * from "./topk.ts";
export * from "./integer_mass.ts";
