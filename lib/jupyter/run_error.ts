/** How a notebook run fails: the error naming the notebook, and the failing cell's details. @module */

/** Details of the failing cell. */
export interface FailedCell {
  /** Index in the source notebook (or "injected"). */
  sourceIndex: number | "injected";
  /** Index in the executed notebook. */
  index: number;
  /** First line of the cell's source. */
  excerpt: string;
  ename: string;
  evalue: string;
  traceback: string[];
}

/** A notebook that did not execute cleanly. */
export class NotebookRunError extends Error {
  /** The source notebook. */
  readonly source: string;
  /** The executed (partial) notebook, when written. */
  readonly executed?: string;
  /** The failing cell, for a cell error. */
  readonly cell?: FailedCell;
  constructor(message: string, source: string, executed?: string, cell?: FailedCell) {
    super(message);
    this.name = "NotebookRunError";
    this.source = source;
    this.executed = executed;
    this.cell = cell;
  }
}
