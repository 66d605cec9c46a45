import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Media tests spawn ffmpeg and RTSP servers; two cores cannot run many files at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
