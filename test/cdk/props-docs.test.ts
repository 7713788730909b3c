import ts from 'typescript';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../lib/paths.js';

// aws-cdk-lib / AWS Solutions Constructs convention: every prop has JSDoc, and every optional prop says its @default.
const FILES = ['lib/data-plane/props.ts', 'lib/control-plane/props.ts', 'lib/data-plane-stack.ts', 'lib/control-plane.ts'];

interface Member { iface: string; name: string; optional: boolean; doc: string }

function members(file: string): Member[] {
  const source = ts.createSourceFile(file, readFileSync(join(PACKAGE_ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Member[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return;
    for (const m of node.members) {
      if (!ts.isPropertySignature(m)) continue;
      const doc = ts.getJSDocCommentsAndTags(m).map((d) => d.getText()).join('\n');
      out.push({ iface: node.name.text, name: m.name.getText(), optional: !!m.questionToken, doc });
    }
  });
  return out;
}

describe('props documentation', () => {
  const all = FILES.flatMap(members);

  it('finds the props interfaces (the check itself works)', () => {
    const ifaces = new Set(all.map((m) => m.iface));
    for (const i of ['DataPlaneProps', 'DataPlaneCacheProps', 'DataPlaneAlarmProps', 'DataPlaneLimitsProps', 'DataPlaneTelemetryProps', 'DataPlaneTracingProps',
      'DataPlaneStackProps', 'ControlPlaneProps', 'ControlPlaneDatabaseProps', 'ControlPlaneFunctionProps']) expect(ifaces.has(i), i).toBe(true);
    expect(all.length).toBeGreaterThan(80);
    // A member without JSDoc is detected as such.
    const probe = ts.createSourceFile('x.ts', 'export interface P { readonly a?: string; }', ts.ScriptTarget.Latest, true);
    const sig = (probe.statements[0] as ts.InterfaceDeclaration).members[0]!;
    expect(ts.getJSDocCommentsAndTags(sig)).toHaveLength(0);
  });

  it('every prop has JSDoc, and every optional prop an @default', () => {
    const undocumented = all.filter((m) => !m.doc.trim()).map((m) => `${m.iface}.${m.name}`);
    const noDefault = all.filter((m) => m.optional && !/@default\s+\S/.test(m.doc)).map((m) => `${m.iface}.${m.name}`);
    expect(undocumented).toEqual([]);
    expect(noDefault).toEqual([]);
  });
});
