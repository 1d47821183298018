// cuDNN's version from its headers or library file names (cuda-matrix.md §5).
// The three macros are read directly: CUDNN_VERSION is MAJOR*1000+MINOR*100+PATCH in v8 but
// MAJOR*10000+MINOR*100+PATCH in v9, so it is never decoded.

/** "MAJOR.MINOR.PATCH" from cudnn_version.h (v8, v9) or cudnn.h (v7 and older); else null. */
export function parseCudnnHeader(text: string): string | null {
  const macro = (name: string): string | null =>
    new RegExp(`^[ \\t]*#[ \\t]*define[ \\t]+${name}[ \\t]+(\\d+)\\b`, 'm').exec(text)?.[1] ?? null;
  const major = macro('CUDNN_MAJOR');
  const minor = macro('CUDNN_MINOR');
  const patch = macro('CUDNN_PATCHLEVEL');
  if (major === null || minor === null || patch === null) return null;
  return `${Number(major)}.${Number(minor)}.${Number(patch)}`;
}

/**
 * The version in a cuDNN library's file name, as precise as the name is:
 * libcudnn.so.8.9.7 → "8.9.7", libcudnn.so.9 → "9", libcudnn_ops_infer.so.8.6.0 → "8.6.0",
 * cudnn64_8.dll → "8". A path is accepted; only its last component is read.
 */
export function cudnnVersionFromLibraryName(fileName: string): string | null {
  const base = fileName.trim().split(/[\\/]/).pop() ?? '';
  const so = /^libcudnn(?:_[a-z0-9_]+)?\.so\.(\d+(?:\.\d+)*)$/.exec(base);
  if (so) return so[1] as string;
  const dll = /^cudnn(?:_[a-z0-9_]+)?64_(\d+)\.dll$/i.exec(base);
  if (dll) return dll[1] as string;
  return null;
}
