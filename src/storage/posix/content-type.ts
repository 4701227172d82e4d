/** Content types guessed from the extension, for files that came in through POSIX. */
const TYPES: Record<string, string> = {
  txt: 'text/plain', html: 'text/html', htm: 'text/html', css: 'text/css', csv: 'text/csv', md: 'text/markdown',
  js: 'text/javascript', mjs: 'text/javascript', json: 'application/json', xml: 'application/xml', pdf: 'application/pdf',
  zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip', tar: 'application/x-tar', bz2: 'application/x-bzip2',
  xz: 'application/x-xz', zst: 'application/zstd', '7z': 'application/x-7z-compressed', wasm: 'application/wasm',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', svg: 'image/svg+xml',
  ico: 'image/x-icon', bmp: 'image/bmp', tif: 'image/tiff', tiff: 'image/tiff', avif: 'image/avif',
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac', m4a: 'audio/mp4',
  mp4: 'video/mp4', webm: 'video/webm', mkv: 'video/x-matroska', mov: 'video/quicktime', avi: 'video/x-msvideo',
  woff: 'font/woff', woff2: 'font/woff2', ttf: 'font/ttf', otf: 'font/otf', yaml: 'application/yaml', yml: 'application/yaml',
  parquet: 'application/vnd.apache.parquet',
};

export function guessContentType(key: string): string {
  const slash = key.lastIndexOf('/');
  const dot = key.lastIndexOf('.');
  if (dot <= slash + 0 || dot === key.length - 1) return 'application/octet-stream';
  return TYPES[key.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}
