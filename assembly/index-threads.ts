// The threaded builds (asconfig targets `threads`, `threads-relaxed`): the whole core, on an
// imported shared memory, plus the thread pool (parallel.ts) that splits large GEMMs.
export * from './index';
export { pool_block_bytes, pool_scratch_bytes, pool_attach, pool_work, pool_stop, pool_fail, pool_failed, pool_abandon, pool_worker_tasks } from './parallel';
