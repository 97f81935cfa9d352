"""Each claim against the literature: evidence gathered from records, reconciled into verdicts."""
