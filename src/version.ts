// The tool's version (from package.json): part of every fingerprint, so a new release re-judges stages.
import { toolVersion } from './tool-root.js';

export const TOOL_VERSION: string = toolVersion();
