#!/usr/bin/env node
/* global process */
// CommonJS on purpose: loading an ES module reads files through libuv's thread pool,
// which fixes the pool's size before any module code runs. Each PUT holds a pool
// thread for every fsync it waits on, and 4 threads (the default) leave the CPU idle
// behind them. An explicit UV_THREADPOOL_SIZE is kept; workers inherit it.
process.env.UV_THREADPOOL_SIZE ??= '16';
import('../dist/cli/main.js');
