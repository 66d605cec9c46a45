/** Concat-demuxer list: one `file '<path>'` line per input, quotes escaped as the demuxer expects. */
export function concatList(files: string[]): string {
  return files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('');
}

/** ffmpeg argv joining same-codec MP4 segments into one MP4 without re-encoding. */
export function concatArgs(listFile: string, output: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'concat',
    '-safe',
    '0',
    '-i',
    listFile,
    '-map',
    '0',
    '-c',
    'copy',
    '-movflags',
    '+faststart',
    output,
  ];
}
