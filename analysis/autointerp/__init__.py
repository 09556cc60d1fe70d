"""Automatic interpretation: per latent, activating and non-activating examples from a store
(`examples`), an explanation from an LLM or from no model at all (`explainers`, `clients`), and
scores that say how far to trust it (`scorers`), run by `pipeline.interpret` with results
resumable as JSONL."""
