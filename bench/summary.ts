/** `npm run bench` (last step): the run's figures as ONE JSON line, with the machine's load. */
import { cpus, loadavg } from 'node:os';
import { readFigures } from './figures.js';

const round = (n: unknown) => (typeof n === 'number' ? Math.round(n * 100) / 100 : n);
const figures = Object.fromEntries(Object.entries(readFigures()).map(([k, v]) => [k, round(v)]));
console.log(JSON.stringify({ ...figures, cores: cpus().length, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100), node: process.version }));
