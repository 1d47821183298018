// Pure parsers for probe outputs: text in, typed values out, never throwing on odd input.

export * from './nvidia-smi.js';
export * from './driver-version.js';
export * from './nvcc.js';
export * from './cudnn.js';
export * from './os-release.js';
export * from './cpuinfo.js';
export * from './glibc.js';
export * from './meminfo.js';
export * from './container.js';
export * from './tf-build-info.js';
export * from './torch-version.js';
export { parsePythonExpression, parsePythonLiteral, pythonMappingEntries, pythonModuleAssignments, type PyValue } from './python-literal.js';
