// ESLint flat config. The import-direction rule enforces the three rings of
// ../shared/design/style.md §1: wire/ imports nothing of ours, cores
// (tunnel/ xfrm/ ike/ route/ offload/) import only wire/ and crypto/, shells
// import anything. config/ (the config file's schema, parse, diff) is
// sans-I/O: cores and wire/, no shell. crypto/ (the addon's per-SA crypto contexts: computation,
// not I/O) is a leaf beside wire/: it imports only wire/, never io/.
// control/ (the request/reply/event types shared by cli/, daemon/ and the
// cores that send control requests, e.g. ike/) imports nothing of ours.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const CORES = ['./src/tunnel', './src/xfrm', './src/ike', './src/route', './src/offload'];
const SHELLS = ['./src/io', './src/datapath', './src/daemon', './src/cli', './src/demo'];

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // ESM '.js' specifiers name the '.ts' sources (NodeNext resolution).
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } })],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='slice'][callee.object.type!='ArrayExpression']",
          message: 'Use subarray(): Uint8Array#slice copies (style.md §5). Suppress only outside the data path.',
        },
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only (style.md §8).' },
      ],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/wire',
              from: './src',
              except: ['./wire'],
              message: 'wire/ imports nothing of ours outside wire/',
            },
            {
              target: './src/control',
              from: './src',
              except: ['./control'],
              message: 'control/ is a leaf: it imports nothing of ours',
            },
            {
              target: './src/crypto',
              from: './src',
              except: ['./crypto', './wire'],
              message: 'crypto/ is a leaf: it imports only wire/',
            },
            {
              target: './src/config',
              from: SHELLS,
              message: 'config/ is sans-I/O (schema, parse, diff): it imports cores and wire/, never a shell',
            },
            ...CORES.map((core) => ({
              target: core,
              from: [...CORES.filter((c) => c !== core), ...SHELLS],
              message: 'cores import only wire/ (and themselves)',
            })),
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
