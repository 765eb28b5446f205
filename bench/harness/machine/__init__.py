"""The machine and the software a benchmark ran on, captured automatically, split by platform
(`linux`, `darwin`, `nvidia`) and topic (`identity`, `power`, `git`, `software`); `capture` puts
the ``machine`` block together."""
