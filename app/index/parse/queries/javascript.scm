; Tag query for JavaScript (Aider repomap capture style).

(class_declaration
  name: (identifier) @name.definition.class) @definition.class

(function_declaration
  name: (identifier) @name.definition.function) @definition.function

(generator_function_declaration
  name: (identifier) @name.definition.function) @definition.function

(method_definition
  name: (_) @name.definition.method) @definition.method

(field_definition
  property: (property_identifier) @name.definition.method
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.method

(variable_declarator
  name: (identifier) @name.definition.function
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

(variable_declarator
  name: (identifier) @name.definition.constant
  (#match? @name.definition.constant "^_*[A-Z][A-Z0-9_]*$")) @definition.constant

; References.

(call_expression
  function: (_) @name.reference.call) @reference.call

(new_expression
  constructor: (_) @name.reference.new) @reference.new

(class_heritage (_) @reference.inherit)

(import_statement) @reference.import

(variable_declarator
  value: (call_expression
    function: (identifier) @_require
    arguments: (arguments . (string)))
  (#eq? @_require "require")) @reference.import
