// A worker that exits with code 3 without throwing: exited() rejects with WorkerExitError.
process.exit(3);
