import type { Plugin } from 'esbuild';

export declare const zodLocalesEn: Plugin;
declare const plugins: Plugin[];
export default plugins;
