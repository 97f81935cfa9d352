"""Relations between mentions: the trigger baseline, dependency parses and the trained relation models."""
