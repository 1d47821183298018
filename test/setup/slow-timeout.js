// For projects whose tests build images or install packages: minutes, not seconds, before a hung
// test is stopped (jest reads testTimeout only from the top-level config).
import { jest } from '@jest/globals';

jest.setTimeout(600_000);
