// `npm run demo`: `npm start` plus a 30 s test-pattern publish and a summary of what was paid.
process.argv.push('--demo');
await import('./start.ts');
