// PEP 503: distribution names compare after normalisation ("JAX_CUDA12.Plugin" is
// "jax-cuda12-plugin"), which is how pip and every index see them.

export function normalizePackageName(name: string): string {
  return name.trim().toLowerCase().replace(/[-_.]+/g, '-');
}
