"""The barge-in benchmark (BENCH.md): scenarios, the runner, signal metrics, report, plot."""
