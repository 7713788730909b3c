import { describe, expect, it } from 'vitest';
import { MissingVariablesError, renderPromptMessages, templateVariables, UnknownPartialError } from '../../runtime/core/prompt-render.js';

describe('shared prompt renderer', () => {
  it('fills variables without HTML escaping, runs sections and includes partials by reference', () => {
    const out = renderPromptMessages(
      [
        { role: 'system', content: 'You are {{persona}}. {{>house-rules}}' },
        { role: 'user', content: '{{#items}}- {{name}}\n{{/items}}{{^items}}nothing{{/items}} <{{raw}}>' },
      ],
      { persona: 'a <pirate>', items: [{ name: 'a' }, { name: 'b' }], raw: 'x & y', tone: 'dry' },
      { 'house-rules': 'Be {{tone}}.' },
    );
    expect(out[0].content).toBe('You are a <pirate>. Be dry.');
    expect(out[1].content).toBe('- a\n- b\n <x & y>');
  });

  it('lists every missing top-level variable (including inside partials), but not section-local ones', () => {
    try {
      renderPromptMessages([{ role: 'user', content: '{{a}} {{b.c}} {{#list}}{{item}}{{/list}} {{>p}}' }], { list: [] }, { p: '{{d}}' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MissingVariablesError);
      expect((err as MissingVariablesError).missing).toEqual(['a', 'b', 'd']);
    }
  });

  it('renders text parts of multimodal content and refuses unknown partials', () => {
    const out = renderPromptMessages([{ role: 'user', content: [{ type: 'text', text: 'Hi {{n}}' }, { type: 'image_url', image_url: { url: 'x' } }] }], { n: 'Ann' });
    expect(out[0].content).toEqual([{ type: 'text', text: 'Hi Ann' }, { type: 'image_url', image_url: { url: 'x' } }]);
    expect(() => templateVariables('{{>nope}}')).toThrow(UnknownPartialError);
  });
});
