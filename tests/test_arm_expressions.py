"""Tests for the static ARM template expression evaluator."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import pytest

from exemptlint.loaders.arm_expressions import Deployment, Evaluator, is_expression, unescape_literal
from exemptlint.model import ScopeLevel, Unresolved

TODAY = datetime.date(2026, 6, 1)

KNOWN = {
    "subscription_id": "00000000-0000-0000-0000-000000000001",
    "resource_group": "rg-app",
    "management_group": "mg-platform",
    "tenant_id": "tenant-1",
}
SUB = KNOWN["subscription_id"]
NOT_STATIC = "function '{}' is not evaluated statically"
SUB_UNKNOWN = "the deployment's subscription is only known at deployment time"


def known(level: ScopeLevel) -> Deployment:
    return Deployment(level=level, **KNOWN)


def make(
    *,
    level: ScopeLevel = ScopeLevel.RESOURCE_GROUP,
    deployment: Deployment | None = None,
    parameters: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    copy_indexes: Mapping[str | None, int] | None = None,
    in_parameter_default: bool = False,
) -> Evaluator:
    return Evaluator(
        parameters=parameters or {},
        variables=variables or {},
        deployment=deployment if deployment is not None else known(level),
        today=TODAY,
        copy_indexes=copy_indexes,
        in_parameter_default=in_parameter_default,
    )


def ev(expression: Any, **kwargs: Any) -> Any:
    return make(**kwargs).evaluate(expression)


def reason(expression: str, **kwargs: Any) -> str:
    result = ev(expression, **kwargs)
    assert isinstance(result, Unresolved), result
    assert result.expression == expression
    return result.reason


# --------------------------------------------------------------------------- literals and escapes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[concat('a', 'b')]", True),
        ("[parameters('x')]", True),
        ("[]", True),
        ("[[Test] CIS 1]", False),
        ("[Test] CIS 1", False),
        ("plain", False),
        ("", False),
        ("[", False),
        ("]", False),
        (" [concat('a')]", False),
    ],
)
def test_is_expression(text: str, expected: bool) -> None:
    assert is_expression(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[x]", "[x]"),
        ("[[Test] CIS 1]", "[Test] CIS 1]"),
        ("[[concat('a')]", "[concat('a')]"),
        ("[Test] CIS 1", "[Test] CIS 1"),
        ("[[no closing bracket", "[[no closing bracket"),
        ("plain", "plain"),
    ],
)
def test_unescape_literal(text: str, expected: str) -> None:
    assert unescape_literal(text) == expected


def test_evaluate_plain_and_escaped_values() -> None:
    assert ev("[[Test] CIS 1]") == "[Test] CIS 1]"
    assert ev("[Test] CIS 1") == "[Test] CIS 1"
    assert ev("just text") == "just text"
    assert ev(42) == 42
    assert ev(None) is None
    assert ev(True) is True
    assert ev(1.5) == 1.5


def test_evaluate_recurses_through_objects_and_arrays() -> None:
    value = {
        "name": "[concat('ex-', parameters('n'))]",
        "list": ["[toUpper('a')]", "[[literal]", 3, {"deep": "[parameters('n')]"}],
        "[concat('keys', 'stay')]": "x",
    }
    assert ev(value, parameters={"n": "one"}) == {
        "name": "ex-one",
        "list": ["A", "[literal]", 3, {"deep": "one"}],
        "[concat('keys', 'stay')]": "x",
    }


def test_already_unresolved_value_is_returned_as_is() -> None:
    unknown = Unresolved("x", "because", None)
    assert ev(unknown) is unknown


# --------------------------------------------------------------------------- grammar


def test_string_literal_with_escaped_quote() -> None:
    assert ev("['it''s']") == "it's"
    assert ev("[concat('''', 'a', '''')]") == "'a'"


def test_integers_including_negative() -> None:
    assert ev("[string(-5)]") == "-5"
    assert ev("[createArray(1, -2, 30)]") == [1, -2, 30]


def test_whitespace_between_tokens() -> None:
    assert ev("[ concat ( 'a' ,\t'b' ) ]") == "ab"
    assert ev("[parameters( 'o' ) . inner [ 0 ] ]", parameters={"o": {"inner": ["z"]}}) == "z"


def test_function_names_are_case_insensitive() -> None:
    assert ev("[CONCAT('a', ToLower('B'), toupper('c'))]") == "abC"


def test_property_and_index_chains() -> None:
    params = {"obj": {"Inner": {"list": [{"name": "first"}, {"name": "second"}]}}, "arr": ["a", "b"]}
    assert ev("[parameters('obj').inner.LIST[1].name]", parameters=params) == "second"
    assert ev("[parameters('obj')['INNER']['list'][0]['Name']]", parameters=params) == "first"
    assert ev("[parameters('arr')[add(0)]]", parameters=params) == Unresolved(
        "[parameters('arr')[add(0)]]", NOT_STATIC.format("add"), None
    )
    assert ev("[parameters('arr')[length(parameters('arr'))]]", parameters=params) == Unresolved(
        "[parameters('arr')[length(parameters('arr'))]]",
        "index 2 is out of range for an array of length 2",
        None,
    )
    assert reason("[parameters('obj').missing]", parameters=params) == "property 'missing' does not exist"
    assert reason("[parameters('arr').name]", parameters=params) == "cannot read property 'name' of a array"
    assert (
        reason("[parameters('arr')['x']]", parameters=params) == "an array index must be an int, not a string"
    )
    assert (
        reason("[parameters('obj')[0]]", parameters=params) == "an object index must be a string, not a int"
    )


def test_property_access_on_unresolved_is_unresolved_without_partial() -> None:
    assert ev("[reference('x').outputs.id.value]") == Unresolved(
        "[reference('x').outputs.id.value]", NOT_STATIC.format("reference"), None
    )


# --------------------------------------------------------------------------- parameters and variables


def test_parameters_are_case_insensitive() -> None:
    assert ev("[parameters('myparam')]", parameters={"MyParam": "v"}) == "v"
    assert ev("[parameters('MYPARAM')]", parameters={"myParam": [1]}) == [1]
    assert reason("[parameters('nope')]") == "parameter 'nope' is not declared"


def test_unresolved_parameter_passes_through() -> None:
    missing = Unresolved("[parameters('sub')]", "parameter 'sub' has no value", None)
    assert ev("[parameters('sub')]", parameters={"sub": missing}) == missing
    with_partial = Unresolved("[subscription().subscriptionId]", "r", "{subscription().subscriptionId}")
    assert ev("[parameters('s')]", parameters={"s": with_partial}) == Unresolved(
        "[parameters('s')]", "r", "{subscription().subscriptionId}"
    )


def test_variables_are_evaluated_lazily_and_memoised() -> None:
    evaluator = make(
        parameters={"env": "prod"},
        variables={
            "Name": "[concat('app-', parameters('env'))]",
            "obj": {"key": "[variables('name')]"},
            "broken": "[reference('x').id]",
        },
    )
    first = evaluator.evaluate("[variables('obj')]")
    assert first == {"key": "app-prod"}
    # The memoised value is reused, not re-evaluated.
    assert evaluator.evaluate("[variables('OBJ')]") is first
    assert evaluator.evaluate("[variables('obj').KEY]") == "app-prod"
    assert evaluator.evaluate("[variables('broken')]") == Unresolved(
        "[variables('broken')]", NOT_STATIC.format("reference"), None
    )
    assert reason("[variables('missing')]") == "variable 'missing' is not declared"


def test_variable_cycles_are_unresolved() -> None:
    variables = {"a": "[variables('b')]", "b": "[concat('x', variables('a'))]", "self": "[variables('self')]"}
    assert ev("[variables('a')]", variables=variables) == Unresolved(
        "[variables('a')]", "variable 'a' refers to itself (a -> b -> a)", "x{variables('a')}"
    )
    assert ev("[variables('self')]", variables=variables) == Unresolved(
        "[variables('self')]", "variable 'self' refers to itself (self -> self)", None
    )


def test_variable_copy_loop() -> None:
    variables = {
        "copy": [
            {"name": "disks", "count": 3, "input": {"name": "[concat('disk', copyIndex('disks', 1))]"}},
            {"name": "unknownCount", "count": "[parameters('n')]", "input": "x"},
        ]
    }
    missing = Unresolved("[parameters('n')]", "parameter 'n' has no value", None)
    evaluator = make(variables=variables, parameters={"n": missing})
    assert evaluator.evaluate("[variables('disks')]") == [
        {"name": "disk1"},
        {"name": "disk2"},
        {"name": "disk3"},
    ]
    assert evaluator.evaluate("[variables('unknownCount')]") == Unresolved(
        "[variables('unknownCount')]", "parameter 'n' has no value", None
    )


# --------------------------------------------------------------------------- strings


def test_concat() -> None:
    assert ev("[concat('a', 'b', 'c')]") == "abc"
    assert ev("[concat('vm', 3, '-', true())]") == "vm3-True"
    assert ev("[concat(createArray(1, 2), createArray(3), createArray())]") == [1, 2, 3]
    assert reason("[concat(createArray(1), 'a')]") == "concat() cannot mix arrays with other values"
    assert reason("[concat(createObject('a', 1))]") == "concat() cannot concatenate a object"


def test_concat_with_unknown_array_is_unresolved_without_partial() -> None:
    assert ev("[concat(createArray(1), reference('x').list)]") == Unresolved(
        "[concat(createArray(1), reference('x').list)]", NOT_STATIC.format("reference"), None
    )


def test_format() -> None:
    assert ev("[format('{0}-{1}-{0}', 'a', 'b')]") == "a-b-a"
    assert ev("[format('{{literal}} {0:D} {1}', 7, true())]") == "{literal} 7 True"
    assert ev("[format('[{0,4}|{0,-4}]', 'ab')]") == "[  ab|ab  ]"
    assert reason("[format('{2}', 'a')]") == "format string '{2}' refers to argument {2}, which is not given"
    assert reason("[format('a } b')]") == "format string 'a } b' has an unmatched '}' at offset 2"


def test_format_partial() -> None:
    missing = Unresolved("[parameters('rg')]", "parameter 'rg' has no value", None)
    assert ev("[format('/rg/{0}/x/{1}', parameters('rg'), 'n')]", parameters={"rg": missing}) == Unresolved(
        "[format('/rg/{0}/x/{1}', parameters('rg'), 'n')]",
        "parameter 'rg' has no value",
        "/rg/{parameters('rg')}/x/n",
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[string(true())]", "True"),
        ("[string(false())]", "False"),
        ("[string(12)]", "12"),
        ("[string('s')]", "s"),
        ("[string(null())]", ""),
        ("[string(createObject('a', 1, 'b', createArray('x', null())))]", '{"a":1,"b":["x",null]}'),
        ("[string(createArray(true(), 'é'))]", '[true,"é"]'),
    ],
)
def test_string(expression: str, expected: str) -> None:
    assert ev(expression) == expected


def test_string_of_object_holding_unknown_is_unresolved() -> None:
    assert ev("[string(subscription())]", level=ScopeLevel.SUBSCRIPTION) == Unresolved(
        "[string(subscription())]", "subscription().displayName is only known at deployment time", None
    )


def test_to_lower_and_to_upper() -> None:
    assert ev("[toLower('MiXeD')]") == "mixed"
    assert ev("[toUpper('MiXeD')]") == "MIXED"
    assert reason("[toLower(1)]") == "toLower() expects argument 1 to be a string, not a int"


def test_to_lower_partial_keeps_placeholders() -> None:
    unknown = Unresolved("[x]", "r", "/Subscriptions/{Sub}/RG")
    assert ev("[toLower(parameters('p'))]", parameters={"p": unknown}) == Unresolved(
        "[toLower(parameters('p'))]", "r", "/subscriptions/{Sub}/rg"
    )
    no_partial = Unresolved("[x]", "r", None)
    assert ev("[toUpper(parameters('p'))]", parameters={"p": no_partial}) == Unresolved(
        "[toUpper(parameters('p'))]", "r", "{parameters('p')}"
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[replace('a-b-c', '-', '/')]", "a/b/c"),
        ("[replace('Aa', 'a', 'x')]", "Ax"),
        ("[split('a,b,,c', ',')]", ["a", "b", "", "c"]),
        ("[split('a,b;c', createArray(',', ';'))]", ["a", "b", "c"]),
        ("[first('abc')]", "a"),
        ("[first('')]", ""),
        ("[first(createArray(1, 2))]", 1),
        ("[first(createArray())]", None),
        ("[last('abc')]", "c"),
        ("[last(createArray(1, 2))]", 2),
        ("[trim('  x y \t')]", "x y"),
        ("[startsWith('Microsoft.Authorization', 'microsoft.')]", True),
        ("[startsWith('abc', 'b')]", False),
        ("[endsWith('abcDEF', 'def')]", True),
        ("[endsWith('abc', 'b')]", False),
        ("[substring('Contoso.com web app', 12, 3)]", "web"),
        ("[substring('abcdef', 2)]", "cdef"),
        ("[take('abcdef', 2)]", "ab"),
        ("[take(createArray(1, 2, 3), 5)]", [1, 2, 3]),
        ("[take('abc', -1)]", ""),
        ("[skip('abcdef', 4)]", "ef"),
        ("[skip(createArray(1, 2, 3), -2)]", [1, 2, 3]),
        ("[indexOf('abcdef', 'CD')]", 2),
        ("[indexOf('abc', 'z')]", -1),
        ("[indexOf(createArray('a', 'b'), 'b')]", 1),
        ("[length('abc')]", 3),
        ("[length(createArray(1, 2))]", 2),
        ("[length(createObject('a', 1))]", 1),
    ],
)
def test_string_and_collection_functions(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[split(1, ',')]", "split() expects argument 1 to be a string, not a int"),
        (
            "[split('a', '')]",
            "split() expects a non-empty string or an array of non-empty strings as its delimiter",
        ),
        ("[replace('a', 1, 'b')]", "replace() expects argument 2 to be a string, not a int"),
        ("[replace('a', '', 'b')]", "replace() cannot replace an empty string"),
        ("[substring('abc', 4)]", "substring() start index 4 is outside the string of length 3"),
        ("[substring('abc', 1, 5)]", "substring() length 5 from index 1 runs past the end of 'abc'"),
        ("[first(1)]", "first() expects a string or an array, not a int"),
        ("[length(null())]", "length() expects a string, an array or an object, not a null"),
        ("[take('abc', 'x')]", "take() expects argument 2 to be an int, not a string"),
        ("[trim(createArray())]", "trim() expects argument 1 to be a string, not a array"),
    ],
)
def test_wrong_argument_types_are_unresolved(expression: str, message: str) -> None:
    assert ev(expression) == Unresolved(expression, message, None)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[concat()]", "concat() takes at least 1 argument(s), but 0 were given"),
        ("[toLower('a', 'b')]", "toLower() takes 1 argument(s), but 2 were given"),
        ("[substring('a')]", "substring() takes 2 to 3 argument(s), but 1 were given"),
        ("[null(1)]", "null() takes 0 argument(s), but 1 were given"),
    ],
)
def test_wrong_argument_counts(expression: str, message: str) -> None:
    assert reason(expression) == message


# --------------------------------------------------------------------------- logic and collections


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[equals('a', 'a')]", True),
        ("[equals('a', 'A')]", False),
        ("[equals(1, true())]", False),
        ("[equals(createArray(1, 'x'), createArray(1, 'x'))]", True),
        ("[equals(createObject('a', 1), createObject('a', 2))]", False),
        ("[not(true())]", False),
        ("[and(true(), true(), true())]", True),
        ("[and(true(), false())]", False),
        ("[or(false(), false())]", False),
        ("[or(false(), true())]", True),
        ("[empty('')]", True),
        ("[empty(createArray())]", True),
        ("[empty(createObject())]", True),
        ("[empty(null())]", True),
        ("[empty('x')]", False),
        ("[contains('abc', 'b')]", True),
        ("[contains('abc', 'B')]", False),
        ("[contains(createArray(1, 2), 2)]", True),
        ("[contains(createArray(1, 2), '2')]", False),
        ("[contains(createObject('Key', 1), 'key')]", True),
        ("[union(createObject('a', 1, 'b', 2), createObject('b', 3, 'c', 4))]", {"a": 1, "b": 3, "c": 4}),
        (
            "[union(createObject('a', createObject('x', 1)), createObject('a', createObject('y', 2)))]",
            {"a": {"y": 2}},
        ),
        ("[union(createArray(1, 2, 'a'), createArray(2, 3, 'a', 1))]", [1, 2, "a", 3]),
        ("[createArray()]", []),
        ("[createArray('a', createArray(1))]", ["a", [1]]),
        ("[createObject()]", {}),
        ("[createObject('a', 1, 'b', createObject('c', null()))]", {"a": 1, "b": {"c": None}}),
        ("[null()]", None),
        ("[true()]", True),
        ("[false()]", False),
        ("[coalesce(null(), null(), 'x', 'y')]", "x"),
        ("[coalesce(null(), null())]", None),
        ("[int('42')]", 42),
        ("[int(' -7 ')]", -7),
        ("[int(5)]", 5),
        ("[bool('TRUE')]", True),
        ("[bool('false')]", False),
        ("[bool(0)]", False),
        ("[bool(2)]", True),
    ],
)
def test_logic_and_collection_functions(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


def test_conversion_failures() -> None:
    assert reason("[int('4.5')]") == "int() cannot convert '4.5' to an int"
    assert reason("[int('99999999999999999999')]") == "int() cannot convert '99999999999999999999' to an int"
    assert reason("[bool('yes')]") == "bool() cannot convert 'yes' to a bool"
    assert reason("[not('true')]") == "not() expects argument 1 to be a bool, not a string"
    assert (
        reason("[union(createArray(), createObject())]")
        == "union() expects only objects or only arrays, got array, object"
    )
    assert (
        reason("[createObject('a')]")
        == "createObject() expects key and value pairs (an even number of arguments)"
    )


def test_if_evaluates_only_the_chosen_branch() -> None:
    assert ev("[if(true(), 'yes', reference('x').id)]") == "yes"
    assert ev("[if(false(), reference('x').id, concat('n', 'o'))]") == "no"
    assert (
        ev("[if(equals(parameters('e'), 'prod'), 'p', listKeys('k', '1').keys[0])]", parameters={"e": "prod"})
        == "p"
    )
    assert ev("[if(false(), 'a', reference('x').id)]") == Unresolved(
        "[if(false(), 'a', reference('x').id)]", NOT_STATIC.format("reference"), None
    )
    assert reason("[if('true', 'a', 'b')]") == "if() expects argument 1 to be a bool, not a string"


def test_if_with_unknown_condition_is_unresolved() -> None:
    assert ev("[if(reference('x').on, 'a', 'b')]") == Unresolved(
        "[if(reference('x').on, 'a', 'b')]", NOT_STATIC.format("reference"), None
    )


def test_if_keeps_the_partial_of_the_chosen_branch() -> None:
    assert ev(
        "[if(true(), subscription().id, 'x')]", deployment=Deployment(level=ScopeLevel.SUBSCRIPTION)
    ) == (
        Unresolved(
            "[if(true(), subscription().id, 'x')]",
            SUB_UNKNOWN,
            "/subscriptions/{subscription().subscriptionId}",
        )
    )


def test_and_or_short_circuit_on_known_values() -> None:
    assert ev("[and(false(), reference('x').on)]") is False
    assert ev("[and(reference('x').on, false())]") is False
    assert ev("[or(true(), reference('x').on)]") is True
    assert ev("[or(reference('x').on, true())]") is True
    assert ev("[and(true(), reference('x').on)]") == Unresolved(
        "[and(true(), reference('x').on)]", NOT_STATIC.format("reference"), None
    )
    assert ev("[or(false(), reference('x').on)]") == Unresolved(
        "[or(false(), reference('x').on)]", NOT_STATIC.format("reference"), None
    )


def test_coalesce_skips_known_nulls_only() -> None:
    missing = Unresolved("[parameters('p')]", "parameter 'p' has no value", None)
    params = {"p": missing}
    assert ev("[coalesce(null(), 'x', parameters('p'))]", parameters=params) == "x"
    assert ev("[coalesce(parameters('p'), 'x')]", parameters=params) == Unresolved(
        "[coalesce(parameters('p'), 'x')]", "parameter 'p' has no value", None
    )
    # The last candidate is the result whether or not it is null.
    assert ev("[coalesce(null(), parameters('p'))]", parameters=params) == Unresolved(
        "[coalesce(null(), parameters('p'))]", "parameter 'p' has no value", None
    )


def test_empty_and_equals_on_unknown_are_unresolved() -> None:
    missing = Unresolved("[parameters('p')]", "parameter 'p' has no value", None)
    params = {"p": missing, "obj": {"a": missing}}
    assert ev("[empty(parameters('p'))]", parameters=params) == Unresolved(
        "[empty(parameters('p'))]", "parameter 'p' has no value", None
    )
    assert ev("[equals(parameters('p'), 'x')]", parameters=params) == Unresolved(
        "[equals(parameters('p'), 'x')]", "parameter 'p' has no value", None
    )
    # An unknown nested inside a known object still makes the comparison unknown.
    assert ev("[equals(parameters('obj'), createObject('a', 1))]", parameters=params) == Unresolved(
        "[equals(parameters('obj'), createObject('a', 1))]", "parameter 'p' has no value", None
    )
    # ...but not the object's emptiness or length.
    assert ev("[empty(parameters('obj'))]", parameters=params) is False
    assert ev("[length(parameters('obj'))]", parameters=params) == 1


def test_contains_with_unknown_elements() -> None:
    missing = Unresolved("[parameters('p')]", "parameter 'p' has no value", None)
    params = {"arr": ["a", missing]}
    assert ev("[contains(parameters('arr'), 'a')]", parameters=params) is True
    assert ev("[contains(parameters('arr'), 'b')]", parameters=params) == Unresolved(
        "[contains(parameters('arr'), 'b')]", "parameter 'p' has no value", None
    )


def test_create_array_and_object_keep_unknown_elements() -> None:
    missing = Unresolved("[parameters('p')]", "parameter 'p' has no value", None)
    assert ev("[createArray('a', parameters('p'))]", parameters={"p": missing}) == ["a", missing]
    assert ev("[createObject('k', parameters('p'))]", parameters={"p": missing}) == {"k": missing}


# --------------------------------------------------------------------------- deployment functions


def test_deployment_functions_with_known_values() -> None:
    rg = ev("[resourceGroup()]", level=ScopeLevel.RESOURCE_GROUP)
    assert rg["id"] == f"/subscriptions/{SUB}/resourceGroups/rg-app"
    assert rg["name"] == "rg-app"
    assert rg["type"] == "Microsoft.Resources/resourceGroups"
    assert isinstance(rg["location"], Unresolved)
    sub = ev("[subscription()]", level=ScopeLevel.RESOURCE_GROUP)
    assert {k: sub[k] for k in ("id", "subscriptionId", "tenantId")} == {
        "id": f"/subscriptions/{SUB}",
        "subscriptionId": SUB,
        "tenantId": "tenant-1",
    }
    assert sub["displayName"] == Unresolved(
        "subscription().displayName", "subscription().displayName is only known at deployment time", None
    )
    assert ev("[managementGroup().id]", level=ScopeLevel.MANAGEMENT_GROUP) == (
        "/providers/Microsoft.Management/managementGroups/mg-platform"
    )
    assert ev("[managementGroup().name]", level=ScopeLevel.MANAGEMENT_GROUP) == "mg-platform"
    assert ev("[tenant().tenantId]", level=ScopeLevel.TENANT) == "tenant-1"
    assert ev("[subscription().subscriptionId]", level=ScopeLevel.SUBSCRIPTION) == SUB


def test_deployment_functions_with_unknown_values() -> None:
    default_sub = Deployment(level=ScopeLevel.SUBSCRIPTION)
    assert ev("[subscription().id]", deployment=default_sub) == Unresolved(
        "[subscription().id]", SUB_UNKNOWN, "/subscriptions/{subscription().subscriptionId}"
    )
    assert ev("[subscription().subscriptionId]", deployment=default_sub) == Unresolved(
        "[subscription().subscriptionId]", SUB_UNKNOWN, "{subscription().subscriptionId}"
    )
    assert ev("[resourceGroup().id]", deployment=Deployment(level=ScopeLevel.RESOURCE_GROUP)) == Unresolved(
        "[resourceGroup().id]",
        SUB_UNKNOWN,
        "/subscriptions/{subscription().subscriptionId}/resourceGroups/{resourceGroup().name}",
    )
    only_rg_known = Deployment(level=ScopeLevel.RESOURCE_GROUP, resource_group="rg")
    assert ev("[resourceGroup().name]", deployment=only_rg_known) == "rg"
    assert ev(
        "[managementGroup().id]", deployment=Deployment(level=ScopeLevel.MANAGEMENT_GROUP)
    ) == Unresolved(
        "[managementGroup().id]",
        "the deployment's management group is only known at deployment time",
        "/providers/Microsoft.Management/managementGroups/{managementGroup().name}",
    )
    assert ev("[tenant().tenantId]", deployment=Deployment(level=ScopeLevel.TENANT)) == Unresolved(
        "[tenant().tenantId]",
        "the deployment's tenant is only known at deployment time",
        "{tenant().tenantId}",
    )


@pytest.mark.parametrize(
    ("level", "expression", "message"),
    [
        (
            ScopeLevel.SUBSCRIPTION,
            "[resourceGroup()]",
            "resourceGroup() needs the deployment's resource group, and a subscription-level deployment has none",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            "[subscription().id]",
            "subscription() needs the deployment's subscription, and a managementGroup-level deployment has none",
        ),
        (
            ScopeLevel.TENANT,
            "[subscription()]",
            "subscription() needs the deployment's subscription, and a tenant-level deployment has none",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[managementGroup()]",
            "managementGroup() needs the deployment's management group, "
            "and a resourceGroup-level deployment has none",
        ),
        (
            ScopeLevel.UNKNOWN,
            "[subscription()]",
            "subscription() needs the deployment's subscription, and the deployment's scope level is not known",
        ),
    ],
)
def test_deployment_functions_at_the_wrong_level(level: ScopeLevel, expression: str, message: str) -> None:
    assert reason(expression, level=level) == message


# --------------------------------------------------------------------------- resource ids

POLICY = "Microsoft.Authorization/policyAssignments"
MG_PATH = "/providers/Microsoft.Management/managementGroups"


@pytest.mark.parametrize(
    ("level", "expression", "expected"),
    [
        # resourceId at every level, with and without the optional leading arguments.
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('Microsoft.Storage/storageAccounts', 'sa')]",
            f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Storage/storageAccounts/sa",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('Microsoft.Sql/servers/databases', 's', 'd')]",
            f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Sql/servers/s/databases/d",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('other', 'Microsoft.Sql/servers', 's')]",
            f"/subscriptions/{SUB}/resourceGroups/other/providers/Microsoft.Sql/servers/s",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('sub2', 'rg2', 'Microsoft.Network/virtualNetworks/subnets', 'vnet', 'default')]",
            "/subscriptions/sub2/resourceGroups/rg2/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('Microsoft.Sql/servers/databases', 's/d')]",
            f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Sql/servers/s/databases/d",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            f"[resourceId('{POLICY}', 'pa')]",
            f"/subscriptions/{SUB}/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            "[resourceId('rg9', 'Microsoft.Storage/storageAccounts', 'sa')]",
            f"/subscriptions/{SUB}/resourceGroups/rg9/providers/Microsoft.Storage/storageAccounts/sa",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            f"[resourceId('{POLICY}', 'pa')]",
            f"{MG_PATH}/mg-platform/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            "[resourceId('s', 'r', 'Microsoft.Storage/storageAccounts', 'sa')]",
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/sa",
        ),
        (ScopeLevel.TENANT, f"[resourceId('{POLICY}', 'pa')]", f"/providers/{POLICY}/pa"),
        # subscriptionResourceId
        (
            ScopeLevel.RESOURCE_GROUP,
            "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]",
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/r1",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            f"[subscriptionResourceId('{POLICY}', 'pa')]",
            f"/subscriptions/{SUB}/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            f"[subscriptionResourceId('other-sub', '{POLICY}', 'pa')]",
            f"/subscriptions/other-sub/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.TENANT,
            f"[subscriptionResourceId('s', '{POLICY}', 'pa')]",
            f"/subscriptions/s/providers/{POLICY}/pa",
        ),
        # tenantResourceId: the same at every level
        (
            ScopeLevel.RESOURCE_GROUP,
            "[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'def')]",
            "/providers/Microsoft.Authorization/policyDefinitions/def",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            "[tenantResourceId('Microsoft.Authorization/policySetDefinitions', 'set')]",
            "/providers/Microsoft.Authorization/policySetDefinitions/set",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            "[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'def')]",
            "/providers/Microsoft.Authorization/policyDefinitions/def",
        ),
        (
            ScopeLevel.TENANT,
            "[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'def')]",
            "/providers/Microsoft.Authorization/policyDefinitions/def",
        ),
        # managementGroupResourceId
        (
            ScopeLevel.MANAGEMENT_GROUP,
            f"[managementGroupResourceId('{POLICY}', 'pa')]",
            f"{MG_PATH}/mg-platform/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            f"[managementGroupResourceId('mg2', '{POLICY}', 'pa')]",
            f"{MG_PATH}/mg2/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.TENANT,
            f"[managementGroupResourceId('mg3', '{POLICY}', 'pa')]",
            f"{MG_PATH}/mg3/providers/{POLICY}/pa",
        ),
        # extensionResourceId
        (
            ScopeLevel.RESOURCE_GROUP,
            "[extensionResourceId(resourceGroup().id, 'Microsoft.Authorization/policyExemptions', 'ex')]",
            f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Authorization/policyExemptions/ex",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            "[extensionResourceId(managementGroup().id, 'Microsoft.Authorization/policyDefinitions', 'd')]",
            f"{MG_PATH}/mg-platform/providers/Microsoft.Authorization/policyDefinitions/d",
        ),
        (
            ScopeLevel.TENANT,
            "[extensionResourceId('/subscriptions/s/', 'Microsoft.Authorization/locks', 'l')]",
            "/subscriptions/s/providers/Microsoft.Authorization/locks/l",
        ),
    ],
)
def test_resource_id_functions(level: ScopeLevel, expression: str, expected: str) -> None:
    assert ev(expression, level=level) == expected


@pytest.mark.parametrize(
    ("level", "expression", "message"),
    [
        (
            ScopeLevel.MANAGEMENT_GROUP,
            "[resourceId('rg', 'Microsoft.Storage/storageAccounts', 'sa')]",
            "resourceId() with a resource group name needs the deployment's subscription, "
            "and a managementGroup-level deployment has none",
        ),
        (
            ScopeLevel.TENANT,
            f"[subscriptionResourceId('{POLICY}', 'pa')]",
            "subscriptionResourceId() without a subscription needs the deployment's subscription, "
            "and a tenant-level deployment has none",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            f"[managementGroupResourceId('{POLICY}', 'pa')]",
            "managementGroupResourceId() without a management group name needs the deployment's "
            "management group, and a subscription-level deployment has none",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('Microsoft.Sql/servers/databases', 's')]",
            "resource type 'Microsoft.Sql/servers/databases' needs 2 name(s), but resourceId() was given 1",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('rg', 'sa')]",
            "resourceId() needs a resource type such as 'Microsoft.Storage/storageAccounts'",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[tenantResourceId('Microsoft.Authorization/policyDefinitions', 'a', 'b')]",
            "resource type 'Microsoft.Authorization/policyDefinitions' needs 1 name(s), "
            "but tenantResourceId() was given 2",
        ),
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('a', 'b', 'c', 'Microsoft.Storage/storageAccounts', 'sa')]",
            "resourceId() needs a resource type such as 'Microsoft.Storage/storageAccounts'",
        ),
        (
            ScopeLevel.UNKNOWN,
            "[resourceId('Microsoft.Storage/storageAccounts', 'sa')]",
            "resourceId() depends on the deployment's scope level, which is not known",
        ),
    ],
)
def test_resource_id_errors(level: ScopeLevel, expression: str, message: str) -> None:
    assert reason(expression, level=level) == message


def test_subscription_resource_id_partial_security_center_example() -> None:
    expression = (
        "[subscriptionResourceId('Microsoft.Authorization/policyAssignments', 'SecurityCenterBuiltIn')]"
    )
    assert ev(expression, deployment=Deployment(level=ScopeLevel.SUBSCRIPTION)) == Unresolved(
        expression,
        SUB_UNKNOWN,
        "/subscriptions/{subscription().subscriptionId}/providers/Microsoft.Authorization/policyAssignments/"
        "SecurityCenterBuiltIn",
    )


@pytest.mark.parametrize(
    ("level", "expression", "partial"),
    [
        (
            ScopeLevel.RESOURCE_GROUP,
            "[resourceId('Microsoft.Storage/storageAccounts', 'sa')]",
            "/subscriptions/{subscription().subscriptionId}/resourceGroups/{resourceGroup().name}"
            "/providers/Microsoft.Storage/storageAccounts/sa",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            "[resourceId('rg', 'Microsoft.Storage/storageAccounts', 'sa')]",
            "/subscriptions/{subscription().subscriptionId}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            f"[resourceId('{POLICY}', 'pa')]",
            f"{MG_PATH}/{{managementGroup().name}}/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.MANAGEMENT_GROUP,
            f"[managementGroupResourceId('{POLICY}', 'pa')]",
            f"{MG_PATH}/{{managementGroup().name}}/providers/{POLICY}/pa",
        ),
        (
            ScopeLevel.SUBSCRIPTION,
            "[extensionResourceId(subscription().id, 'Microsoft.Authorization/policyExemptions', 'ex')]",
            "/subscriptions/{subscription().subscriptionId}/providers/Microsoft.Authorization/policyExemptions/ex",
        ),
    ],
)
def test_resource_id_partials_with_unknown_deployment(
    level: ScopeLevel, expression: str, partial: str
) -> None:
    result = ev(expression, deployment=Deployment(level=level))
    assert isinstance(result, Unresolved)
    assert (result.expression, result.partial) == (expression, partial)


def test_resource_id_with_unknown_name_argument() -> None:
    missing = Unresolved("[parameters('name')]", "parameter 'name' has no value", None)
    expression = f"[resourceId('{POLICY}', parameters('name'))]"
    assert ev(expression, level=ScopeLevel.SUBSCRIPTION, parameters={"name": missing}) == Unresolved(
        expression,
        "parameter 'name' has no value",
        f"/subscriptions/{SUB}/providers/{POLICY}/{{parameters('name')}}",
    )


def test_resource_id_with_unknown_type_is_unresolved_without_partial() -> None:
    missing = Unresolved("[parameters('t')]", "parameter 't' has no value", None)
    assert ev("[resourceId(parameters('t'), 'n')]", parameters={"t": missing}) == Unresolved(
        "[resourceId(parameters('t'), 'n')]", "parameter 't' has no value", None
    )


# --------------------------------------------------------------------------- unresolved propagation


def test_concat_with_parameter_without_value() -> None:
    missing = Unresolved("[parameters('sub')]", "parameter 'sub' has no value", None)
    expression = "[concat('/subscriptions/', parameters('sub'), '/resourceGroups/rg')]"
    assert ev(expression, parameters={"sub": missing}) == Unresolved(
        expression, "parameter 'sub' has no value", "/subscriptions/{parameters('sub')}/resourceGroups/rg"
    )


def test_partials_nest_through_string_builders() -> None:
    expression = "[concat(subscription().id, '/resourceGroups/', toLower('RG'))]"
    assert ev(expression, deployment=Deployment(level=ScopeLevel.SUBSCRIPTION)) == Unresolved(
        expression, SUB_UNKNOWN, "/subscriptions/{subscription().subscriptionId}/resourceGroups/rg"
    )


def test_partial_through_a_variable() -> None:
    missing = Unresolved("[parameters('s')]", "parameter 's' has no value", None)
    evaluator = make(
        parameters={"s": missing}, variables={"scope": "[concat('/subscriptions/', parameters('s'))]"}
    )
    assert evaluator.evaluate("[concat(variables('scope'), '/x')]") == Unresolved(
        "[concat(variables('scope'), '/x')]",
        "parameter 's' has no value",
        "/subscriptions/{parameters('s')}/x",
    )


def test_reason_names_the_first_function_not_evaluated() -> None:
    assert ev("[concat(reference('a').x, guid('b'))]") == Unresolved(
        "[concat(reference('a').x, guid('b'))]",
        NOT_STATIC.format("reference"),
        "{reference('a').x}{guid('b')}",
    )
    assert reason("[toLower(string(uniqueString('a')))]") == NOT_STATIC.format("uniqueString")


def test_strict_functions_have_no_partial() -> None:
    assert ev(
        "[replace(subscription().id, 'a', 'b')]", deployment=Deployment(level=ScopeLevel.SUBSCRIPTION)
    ) == (Unresolved("[replace(subscription().id, 'a', 'b')]", SUB_UNKNOWN, None))


@pytest.mark.parametrize(
    "name",
    [
        "reference",
        "listKeys",
        "listSecrets",
        "guid",
        "uniqueString",
        "deployment",
        "environment",
        "pickZones",
        "newGuid",
        "somethingUnknown",
    ],
)
def test_functions_not_evaluated_statically(name: str) -> None:
    expression = f"[{name}('a')]"
    assert ev(expression) == Unresolved(expression, NOT_STATIC.format(name), None)


def test_user_defined_functions_are_not_evaluated() -> None:
    assert ev("[contoso.uniqueName('a')]") == Unresolved(
        "[contoso.uniqueName('a')]", NOT_STATIC.format("contoso.uniqueName"), None
    )


# --------------------------------------------------------------------------- copyIndex


def test_copy_index() -> None:
    assert reason("[copyIndex()]") == "copyIndex() is used outside a copy loop"
    inner = make().with_copy_index("outer", 2).with_copy_index(None, 5)
    assert inner.evaluate("[copyIndex()]") == 5
    assert inner.evaluate("[copyIndex(10)]") == 15
    assert inner.evaluate("[copyIndex('outer')]") == 2
    assert inner.evaluate("[copyIndex('OUTER', 1)]") == 3
    assert inner.evaluate("[copyIndex('nope')]") == Unresolved(
        "[copyIndex('nope')]", "copyIndex('nope') is not inside a copy loop named 'nope'", None
    )
    named = make(copy_indexes={None: 1, "loop": 1})
    assert named.evaluate("[concat('ex-', copyIndex('loop', 1))]") == "ex-2"
    assert make().with_copy_index("only", 7).evaluate("[copyIndex()]") == 7


def test_with_parameters_keeps_deployment_and_drops_variables() -> None:
    outer = make(level=ScopeLevel.SUBSCRIPTION, parameters={"a": "outer"}, variables={"v": "x"})
    inner = outer.with_parameters({"A": "inner"})
    assert inner.evaluate("[parameters('a')]") == "inner"
    assert inner.evaluate("[subscription().subscriptionId]") == SUB
    assert reason_of(inner.evaluate("[variables('v')]")) == "variable 'v' is not declared"


def reason_of(value: Any) -> str:
    assert isinstance(value, Unresolved)
    return value.reason


# --------------------------------------------------------------------------- dates


def test_utc_now_only_in_parameter_defaults() -> None:
    assert ev("[utcNow()]") == Unresolved(
        "[utcNow()]", "utcNow() is only allowed in parameter default values", None
    )
    assert ev("[utcNow()]", in_parameter_default=True) == "20260601T000000Z"
    assert ev("[utcNow('u')]", in_parameter_default=True) == "2026-06-01 00:00:00Z"
    assert ev("[utcNow('s')]", in_parameter_default=True) == "2026-06-01T00:00:00"
    assert ev("[utcNow('o')]", in_parameter_default=True) == "2026-06-01T00:00:00.0000000Z"
    assert ev("[utcNow('yyyy-MM-dd')]", in_parameter_default=True) == "2026-06-01"
    assert ev("[utcNow('dd/MM/yyyy HH:mm:ss.fff')]", in_parameter_default=True) == "01/06/2026 00:00:00.000"
    assert (
        reason("[utcNow('dddd')]", in_parameter_default=True)
        == "date format 'dddd' is not supported (at 'dddd')"
    )


def test_variables_are_not_evaluated_as_parameter_defaults() -> None:
    evaluator = make(in_parameter_default=True, variables={"stamp": "[utcNow()]"})
    assert evaluator.evaluate("[utcNow('yyyy')]") == "2026"
    assert evaluator.evaluate("[variables('stamp')]") == Unresolved(
        "[variables('stamp')]", "utcNow() is only allowed in parameter default values", None
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("[dateTimeAdd('2026-06-01T00:00:00Z', 'P6M')]", "2026-12-01T00:00:00Z"),
        ("[dateTimeAdd('2026-06-01', 'P206D')]", "2026-12-24T00:00:00Z"),
        ("[dateTimeAdd('2026-01-31T10:00:00Z', 'P1M')]", "2026-02-28T10:00:00Z"),
        ("[dateTimeAdd('2024-02-29T00:00:00Z', 'P1Y')]", "2025-02-28T00:00:00Z"),
        ("[dateTimeAdd('2020-04-07 14:53:14Z', 'P3Y')]", "2023-04-07T14:53:14Z"),
        ("[dateTimeAdd('2026-03-01T00:00:00Z', '-P7D')]", "2026-02-22T00:00:00Z"),
        ("[dateTimeAdd('2026-03-31T00:00:00Z', '-P1M')]", "2026-02-28T00:00:00Z"),
        ("[dateTimeAdd('2026-01-01T23:30:00Z', 'PT1H')]", "2026-01-02T00:30:00Z"),
        ("[dateTimeAdd('2026-01-01T00:00:00Z', 'P1Y2M10DT2H30M')]", "2027-03-11T02:30:00Z"),
        ("[dateTimeAdd('2026-01-01T00:00:00Z', 'P2W')]", "2026-01-15T00:00:00Z"),
        ("[dateTimeAdd('2026-01-01T00:00:00.1234567Z', 'PT1S', 'HH:mm:ss.fffffff')]", "00:00:01.1234560"),
        ("[dateTimeAdd('2026-01-01T01:00:00+02:00', 'PT0S')]", "2025-12-31T23:00:00Z"),
        ("[dateTimeAdd('2026-01-01T00:00:00-05:30', 'P1D', 'yyyy-MM-dd HH:mm')]", "2026-01-02 05:30"),
        ("[dateTimeAdd('2026-01-01T00:00:00Z', 'P1D', 'yyyy-MM-dd')]", "2026-01-02"),
    ],
)
def test_date_time_add(expression: str, expected: str) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[dateTimeAdd('tomorrow', 'P1D')]", "'tomorrow' is not an ISO 8601 date and time"),
        (
            "[dateTimeAdd('2026-01-01', '1 day')]",
            "'1 day' is not an ISO 8601 duration such as 'P1Y2M10DT2H30M'",
        ),
        ("[dateTimeAdd('2026-01-01', 'P')]", "'P' is not an ISO 8601 duration such as 'P1Y2M10DT2H30M'"),
        (
            "[dateTimeAdd('2026-01-01', 'P1DT')]",
            "'P1DT' is not an ISO 8601 duration such as 'P1Y2M10DT2H30M'",
        ),
        ("[dateTimeAdd('9999-12-01', 'P1M')]", "the resulting date is out of range"),
        ("[dateTimeAdd('9999-12-31', 'P1D')]", "the resulting date is out of range"),
        ("[dateTimeAdd('2026-01-01', 'P999999999W')]", "the resulting date is out of range"),
        ("[dateTimeAdd('2026-01-01', 'P1D', 'yy')]", "date format 'yy' is not supported (at 'yy')"),
        (
            "[dateTimeAdd('2026-02-30', 'P1D')]",
            "'2026-02-30' is not a valid date and time (day is out of range for month)",
        ),
    ],
)
def test_date_time_add_errors(expression: str, message: str) -> None:
    assert reason(expression) == message


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("[concat('a']", "invalid expression: expected ',' or ')' at the end of the expression"),
        ("[concat('a'))]", "invalid expression: unexpected ')' at character 13 after a complete expression"),
        ("[concat('a)]", "invalid expression: unterminated string literal starting at character 9"),
        ("[concat('a' 'b')]", "invalid expression: expected ',' or ')' but found \"'b'\" at character 13"),
        ("[concat('a',)]", "invalid expression: unexpected ')' at character 13"),
        ("[concat('a') x]", "invalid expression: unexpected 'x' at character 14 after a complete expression"),
        ("[]", "invalid expression: the expression is empty"),
        ("[   ]", "invalid expression: the expression is empty"),
        ("[true]", "invalid expression: expected '(' after 'true' at the end of the expression"),
        (
            "[parameters('a').]",
            "invalid expression: expected a property name after '.' at the end of the expression",
        ),
        ("[parameters('a')[0]", "invalid expression: expected ']' at the end of the expression"),
        ('[concat("a")]', "invalid expression: unexpected character '\"' at character 9"),
        ("[concat('a') # x]", "invalid expression: unexpected character '#' at character 14"),
        (
            "[ns.('a')]",
            "invalid expression: expected a function name after 'ns.' but found '(' at character 5",
        ),
        (
            "[string(99999999999999999999)]",
            "invalid expression: integer '99999999999999999999' is out of range at character 9",
        ),
    ],
)
def test_malformed_expressions(expression: str, message: str) -> None:
    assert ev(expression) == Unresolved(expression, message, None)


def test_deep_nesting_is_unresolved_not_recursion_error() -> None:
    expression = "[" + "concat(" * 10_000 + "'a'" + ")" * 10_000 + "]"
    result = ev(expression)
    assert isinstance(result, Unresolved)
    assert result.expression == expression
    assert (
        result.reason == "invalid expression: functions are nested more than 64 levels deep at character 457"
    )


def test_nesting_up_to_the_limit_is_evaluated() -> None:
    assert ev("[" + "concat(" * 64 + "'a'" + ")" * 64 + "]") == "a"


def test_long_property_chains_and_deep_json_do_not_recurse_without_bound() -> None:
    assert reason("[createObject()" + ".a" * 10_000 + "]").startswith(
        "invalid expression: more than 64 property accesses at character"
    )
    value: Any = "[concat('x')]"
    for _ in range(5_000):
        value = [value]
    result = ev(value)
    depth = 0
    while isinstance(result, list):
        result, depth = result[0], depth + 1
    assert result == Unresolved("(value)", "the value is nested too deeply to evaluate", None)
    assert depth == 161


def test_long_variable_chains_stay_bounded() -> None:
    count = 2_000
    variables = {f"v{i}": f"[variables('v{i + 1}')]" for i in range(count)}
    variables[f"v{count}"] = "end"
    result = ev("[variables('v0')]", variables=variables)
    assert result == Unresolved("[variables('v0')]", "the value is nested too deeply to evaluate", None)
    # A short chain is still followed to the end.
    assert ev("[variables('v1990')]", variables=variables) == "end"


def test_value_cut_short_by_depth_is_not_reused_at_a_shallower_depth() -> None:
    count = 50
    variables = {f"v{i}": f"[variables('v{i + 1}')]" for i in range(count)}
    variables[f"v{count}"] = "end"
    evaluator = make(variables=variables)
    too_deep = "the value is nested too deeply to evaluate"
    # v20 is first reached 20 references deep, where the rest of the chain does not fit...
    assert evaluator.evaluate("[variables('v0')]") == Unresolved("[variables('v0')]", too_deep, None)
    # ...but used directly, the remaining 30 references fit.
    assert evaluator.evaluate("[variables('v20')]") == "end"
    assert evaluator.evaluate("[variables('v0')]") == Unresolved("[variables('v0')]", too_deep, None)


def test_exponential_growth_is_cut_off() -> None:
    # Each variable doubles the previous one: 2**24 copies of "abcd" must not be built.
    variables: dict[str, Any] = {"s0": "abcd"}
    for i in range(1, 25):
        variables[f"s{i}"] = f"[concat(variables('s{i - 1}'), variables('s{i - 1}'))]"
    assert reason("[length(variables('s24'))]", variables=variables) == (
        "the result is longer than 1000000 characters, too long to evaluate statically"
    )
    arrays: dict[str, Any] = {"a0": "[createArray(1)]"}
    for i in range(1, 25):
        arrays[f"a{i}"] = f"[createArray(variables('a{i - 1}'), variables('a{i - 1}'))]"
    too_many = "the value has more than 200000 elements, too many to evaluate statically"
    assert reason("[length(variables('a17'))]", variables=arrays) == too_many
    # Above the cut, the arrays hold the unresolved a17 as an element: their own size is small.
    assert ev("[length(variables('a24'))]", variables=arrays) == 2
    assert reason("[variables('a24')[0][0][0][0][0][0][1]]", variables=arrays) == too_many


def test_unknown_input_types_never_raise() -> None:
    for value in (object(), ("tuple",), b"bytes", float("nan")):
        assert ev(value) is value
    assert ev({1: "[concat('a', 'b')]"}) == {1: "ab"}
    assert reason("[parameters(1)]") == "parameters() expects argument 1 to be a string, not a int"
    assert reason("[string(parameters('p'))]", parameters={"p": {"k": object()}}).startswith(
        "cannot convert the value to JSON text"
    )


def test_parse_results_are_cached() -> None:
    from exemptlint.loaders import arm_expressions

    arm_expressions._parse.cache_clear()
    evaluator = make(parameters={"x": "v"})
    for _ in range(3):
        assert evaluator.evaluate("[parameters('x')]") == "v"
    info = arm_expressions._parse.cache_info()
    assert (info.hits, info.misses) == (2, 1)


def test_deployment_defaults() -> None:
    deployment = Deployment(level=ScopeLevel.SUBSCRIPTION)
    assert deployment.subscription_id == Unresolved(
        "subscription().subscriptionId", SUB_UNKNOWN, "{subscription().subscriptionId}"
    )
    assert deployment.resource_group == Unresolved(
        "resourceGroup().name",
        "the deployment's resource group is only known at deployment time",
        "{resourceGroup().name}",
    )
    assert deployment.management_group == Unresolved(
        "managementGroup().name",
        "the deployment's management group is only known at deployment time",
        "{managementGroup().name}",
    )
    assert deployment.tenant_id == Unresolved(
        "tenant().tenantId", "the deployment's tenant is only known at deployment time", "{tenant().tenantId}"
    )


def test_date_time_add_accepts_utc_now_default_format() -> None:
    import datetime as _dt

    from exemptlint.loaders.arm_expressions import Deployment, Evaluator
    from exemptlint.model import ScopeLevel

    evaluator = Evaluator(
        parameters={},
        variables={},
        deployment=Deployment(level=ScopeLevel.SUBSCRIPTION),
        today=_dt.date(2026, 11, 24),
        in_parameter_default=True,
    )
    assert evaluator.evaluate("[utcNow()]") == "20261124T000000Z"
    assert evaluator.evaluate("[dateTimeAdd(utcNow(), 'P90D')]") == "2027-02-22T00:00:00Z"


# --------------------------------------------------------------------------- compiled evaluation

# Expressions are compiled once into closures, with shortcuts for parameters('x') and
# variables('x'); these tests pin what the shortcuts must keep from the general path.


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("[parameters('p')]", "v"),
        ("[variables('W')]", "x"),
        (
            "[parameters('nope')]",
            Unresolved("[parameters('nope')]", "parameter 'nope' is not declared", None),
        ),
        ("[variables('nope')]", Unresolved("[variables('nope')]", "variable 'nope' is not declared", None)),
    ],
)
def test_parameter_and_variable_shortcuts_stop_at_the_depth_limit(expression: str, value: Any) -> None:
    from exemptlint.loaders.arm_expressions import _MAX_DEPTH

    evaluator = make(parameters={"P": "v"}, variables={"w": "x"})
    too_deep = Unresolved(expression, "the value is nested too deeply to evaluate", None)
    # The argument, one level deeper than the call, is the first to be too deep.
    assert evaluator._value(expression, _MAX_DEPTH - 1) == value
    assert evaluator._value(expression, _MAX_DEPTH) == too_deep
    assert evaluator._value(expression, _MAX_DEPTH + 1) == too_deep
    assert evaluator._store.depth_hits == 2


def test_strict_functions_do_not_evaluate_arguments_after_an_unknown_one() -> None:
    # The first unknown argument decides; the variable after it is never evaluated.
    evaluator = make(variables={"later": "[string(1)]"})
    result = evaluator.evaluate("[equals(reference('x'), variables('later'))]")
    assert result == Unresolved(
        "[equals(reference('x'), variables('later'))]", NOT_STATIC.format("reference"), None
    )
    assert evaluator._store.memo == {}


def test_compiled_expressions_are_shared_by_evaluators() -> None:
    one = make(parameters={"p": "a"}, variables={"v": "[concat(parameters('p'), '-x')]"})
    two = make(parameters={"p": "b"}, variables={"v": "[concat(parameters('p'), '-x')]"})
    for _ in range(2):
        assert one.evaluate("[variables('v')]") == "a-x"
        assert two.evaluate("[variables('v')]") == "b-x"
    assert one.with_copy_index(None, 1).evaluate("[concat(variables('v'), string(copyIndex()))]") == "a-x1"
    assert one.evaluate("[copyIndex()]") == Unresolved(
        "[copyIndex()]", "copyIndex() is used outside a copy loop", None
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Errors come in the order of the format string, after the arguments before them.
        ("[format('{0} {', createObject())]", "format() cannot format a object"),
        ("[format('{1} {', 'a')]", "format string '{1} {' refers to argument {1}, which is not given"),
        ("[format('{0} {', 'a')]", "format string '{0} {' has an unmatched '{' at offset 4"),
    ],
)
def test_format_errors_keep_their_order(expression: str, expected: str) -> None:
    for _ in range(2):  # the second time, the format string is read from the cache
        assert reason(expression) == expected


def test_format_with_alignment_escapes_and_unknowns() -> None:
    assert ev("[format('{0,4}|{1,-3}|{{x}}|{0}', 7, 'ab')]") == "   7|ab |{x}|7"
    assert ev("[format('{0}-{1}', parameters('q'), 'b')]", parameters={"q": UNKNOWN_Q}) == Unresolved(
        "[format('{0}-{1}', parameters('q'), 'b')]", "q is not known", "{parameters('q')}-b"
    )


UNKNOWN_Q = Unresolved("[parameters('q')]", "q is not known", None)


def test_concat_of_strings_and_of_other_values() -> None:
    assert ev("[concat('a', 'b', 'c')]") == "abc"
    assert ev("[concat('a', 1, bool('true'), null())]") == "a1True"
    assert ev("[concat('a', parameters('q'))]", parameters={"q": UNKNOWN_Q}) == Unresolved(
        "[concat('a', parameters('q'))]", "q is not known", "a{parameters('q')}"
    )


def test_date_time_add_reports_errors_in_argument_order() -> None:
    assert reason("[dateTimeAdd('x', 1)]") == "'x' is not an ISO 8601 date and time"
    assert reason("[dateTimeAdd('2026-01-01', 'P1D', 1)]") == (
        "dateTimeAdd() expects argument 3 to be a string, not a int"
    )
    for _ in range(2):  # the second time, from the cache
        assert ev("[dateTimeAdd('2026-01-31', 'P1M', 'yyyy-MM-dd')]") == "2026-02-28"
        assert reason("[dateTimeAdd('2026-01-31', 'P1X')]").endswith(
            "is not an ISO 8601 duration such as 'P1Y2M10DT2H30M'"
        )


def test_utc_now_follows_each_evaluators_today() -> None:
    for today, expected in ((datetime.date(2026, 1, 2), "20260102T000000Z"), (TODAY, "20260601T000000Z")):
        evaluator = Evaluator(
            parameters={},
            variables={},
            deployment=known(ScopeLevel.RESOURCE_GROUP),
            today=today,
            in_parameter_default=True,
        )
        assert evaluator.evaluate("[utcNow()]") == expected


def test_declare_parameter_adds_or_replaces_a_value() -> None:
    evaluator = make(parameters={"a": "1"}, in_parameter_default=True)
    assert evaluator.evaluate("[parameters('b')]") == Unresolved(
        "[parameters('b')]", "parameter 'b' is not declared", None
    )
    evaluator.declare_parameter("B", "2")
    evaluator.declare_parameter("A", "one")
    assert evaluator.evaluate("[concat(parameters('a'), parameters('b'))]") == "one2"
