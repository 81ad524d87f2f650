// Lint (`npm run lint`, in .ci/run): ESLint's and typescript-eslint's recommended rules, without
// type information (the type checker is `npm run typecheck`); layout is Prettier's
// (.prettierrc.json: lines ≤ 120). Comments are held to 120 as well; string and template literals
// may run longer, so that every message stays whole and can be found with grep.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'models/', 'coverage/', '.compiled/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
);
