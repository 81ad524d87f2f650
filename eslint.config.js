// Lint (`npm run lint`, in .ci/run): ESLint's and typescript-eslint's recommended rules, without
// type information (the type checker is `npm run typecheck`); layout is Prettier's
// (.prettierrc.json: lines ≤ 120). Comments are held to 120 as well; string and template literals
// may run longer, so that every message stays whole and can be found with grep.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'models/', 'coverage/', '.compiled/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    rules: {
      // `_` names a value deliberately left unused (a destructured field dropped, a callback argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // A file is one job; past 400 lines it is doing two (docs/development.md "Layout").
      'max-lines': ['error', { max: 400 }],
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    // Tests read arbitrary JSON (HTTP bodies, manifests) and poke at it; `any` is their honest type.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
