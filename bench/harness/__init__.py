"""The parent harness: runs a benchmark on this machine without importing a framework.

It captures the machine, prepares the dataset, starts a worker per job (`bench.protocol`), prints
the console summary and writes the results file; `probing` runs the probe sections, `weights`
fetches VGG-16's ImageNet weights, `geekbench` reads the scores a user types in.
"""
