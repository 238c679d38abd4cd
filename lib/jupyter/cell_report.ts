/**
 * What the notebook runner reports about each executed code cell: its outputs, the late outputs it recovered
 * after the kernel said idle, and the labels and one-line descriptions its progress lines use.
 * @module
 */

/** An output that arrived after the kernel said the cell was idle (and was kept). */
export interface LateOutput {
  type: string;
  ms_after_idle: number;
}

/** What happened to one executed code cell. */
export interface CellReport {
  /** Index in the executed notebook (the injected cell counts). */
  index: number;
  /** Index in the source notebook, or "injected" for the injected parameters cell. */
  sourceIndex: number | "injected";
  /** 1-based position among the code cells, and their count. */
  ordinal: number;
  of: number;
  seconds: number;
  /** Output types, in order. */
  outputs: string[];
  /** Outputs that came after idle (the race), which a plain nbclient run would have lost. */
  late: LateOutput[];
}

/** The first non-blank line of a cell's source, trimmed. */
export function firstLine(source: string): string {
  return source.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
}

/** "cell 3" (index in the source notebook) or "injected parameters cell". */
export function cellLabel(sourceIndex: number | "injected"): string {
  return typeof sourceIndex === "number" ? `cell ${sourceIndex}` : "injected parameters cell";
}

/** A cell's output types, and the late outputs recovered with how long after idle each came. */
export function describeOutputs(c: CellReport): string {
  const outs = c.outputs.length > 0 ? c.outputs.join(", ") : "no output";
  const late = c.late.length > 0
    ? `; recovered ${c.late.length} late output(s) after idle: ${
      c.late.map((l) => `${l.type} +${l.ms_after_idle} ms`).join(", ")
    }`
    : "";
  return `${outs}${late}`;
}
