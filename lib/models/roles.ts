/**
 * What a model is in a comparison: the one list of roles, read by study files and used by figures to pick a
 * model's colour and marker.
 * @module
 */

/** Every role a model may have: the pretrained base and its kinds of fine-tune. */
export const MODEL_ROLES = ["base", "sft", "dpo", "ppo", "chat", "kto", "slic", "collapsed"] as const;

/** What a model is in the comparison. */
export type ModelRole = typeof MODEL_ROLES[number];
