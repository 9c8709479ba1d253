/**
 * The bench harness's memory readings, against real processes: a process tree is found through
 * /proc (a cluster's workers count), the peak RSS sums the tree's VmHWM and sees memory that
 * was freed again, and a reset makes the next reading this run's peak only.
 * Run: node --test tests/bench/harness.test.mjs
 */
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {describe, it} from 'node:test';

import {peakRss, processTree, resetPeakRss} from './harness.mjs';

const MB = 1024 * 1024;

/**
 * A Node process that, on each line of stdin, allocates (and touches) that many MB, keeps them
 * until the next line, and answers "ok"; with `child` it first starts one like itself.
 */
async function allocator({child = false} = {}) {
  const source = `
    const {spawn} = require('node:child_process');
    let kept = null;
    ${child ? "const kid = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'}); process.on('exit', () => kid.kill()); process.on('SIGTERM', () => process.exit());" : ''}
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (line) => {
      kept = null;
      const mb = Number(line.trim());
      if (mb > 0) { kept = Buffer.alloc(mb * 1024 * 1024, 1); }
      if (global.gc) global.gc();
      process.stdout.write('ok\\n');
    });
    process.stdout.write('ready\\n');
  `;
  const proc = spawn(process.execPath, ['--expose-gc', '-e', source], {stdio: ['pipe', 'pipe', 'inherit']});
  proc.stdout.setEncoding('utf8');
  await once(proc.stdout, 'data');
  return {
    pid: proc.pid,
    async allocate(mb) {
      proc.stdin.write(`${mb}\n`);
      await once(proc.stdout, 'data');
    },
    stop() {
      proc.kill();
    },
  };
}

describe('harness memory readings', () => {
  it('finds a process tree through /proc', async () => {
    const parent = await allocator({child: true});
    try {
      let tree = [];
      for (let i = 0; i < 50 && tree.length < 2; i++) {
        tree = processTree(parent.pid);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(tree[0], parent.pid);
      assert.equal(tree.length, 2, `tree ${tree}`);
      assert.ok(!processTree(process.pid).includes(process.ppid), 'ancestors are not descendants');
    } finally {
      parent.stop();
    }
  });

  it('reads the peak after memory is freed, and a reset starts a new peak', async () => {
    const p = await allocator();
    try {
      const base = peakRss(p.pid);
      assert.ok(base > 5 * MB && base < 200 * MB, `a bare node process: ${base / MB} MB`);
      await p.allocate(120);
      await p.allocate(0);
      const peak = peakRss(p.pid);
      assert.ok(peak >= base + 110 * MB, `peak ${peak / MB} MB after 120 MB over ${base / MB} MB`);
      resetPeakRss(p.pid);
      const after = peakRss(p.pid);
      assert.ok(after < peak - 60 * MB, `after a reset ${after / MB} MB, peak was ${peak / MB} MB`);
    } finally {
      p.stop();
    }
  });
});
